#!/usr/bin/python3
"""Writes tok_fixtures/corpus.json: analyst-style prompts for the tokenizer comparison (README.md "Model fidelity
table", LLaMA tokenizer). Hand-written questions plus deterministic variations: unicode place names, numbers,
coordinates, GeoChat boxes and task tags, `<image>`-like specials, runs of spaces, tabs, newlines, emojis.

  /usr/bin/python3 native-models/exporter/fidelity/tok_corpus.py
"""
import json
import os

HERE = os.path.dirname(os.path.abspath(__file__))

QUESTIONS = [
    "How many aircraft are parked on the apron?",
    "Describe this image briefly.",
    "What is the category of the object in <region1>?",
    "Is there a ship docked at the northern pier?",
    "Count the storage tanks west of the runway.",
    "What changed between the two images ?",
    "Classify the scene of this image in one word.",
    "Are the vehicles in the car park more than 50?",
    "Which building has the largest roof area?",
    "Estimate the length of the bridge in metres.",
    "Is the river flooding its banks near the village?",
    "What is the relationship between <region1> and <region2>?",
    "Please segment the harbour breakwater.",
    "List every vessel larger than 100 m.",
    "Where is the helipad?",
    "Give me the location of <p> the white truck </p>",
    "[refer] Give me the location of <p> plane </p>",
    "[grounding] Describe the image in detail.",
    "[identify] What is the object present at {<12><30><45><61>|<0>}",
    "[identify] What is this {<0><0><100><100>}",
    "[vqa] How many tennis courts are there?",
    "Is the damage at 48.8566° N, 2.3522° E visible?",
    "Coordinates: -33.8688, 151.2093 (Sydney) — check the port.",
    "UTM 33N 500000 4649776, zone boundary?",
    "MGRS 4QFJ12345678 — any changes since 2023-07-14?",
    "Tile z=14 x=8529 y=5974, ground sample distance 0.3 m/px.",
    "The NDVI dropped from 0.82 to 0.41 (−50%).",
    "Temperature anomaly +3.5 °C over 12 km²?",
    "Bearing 045°, range 12.5 NM from the lighthouse.",
    "SAR backscatter −18.2 dB vs −11.7 dB: wet soil?",
    "Is there a fire at the refinery? 🔥",
    "Mark the boats ⛵🚤 and the cranes 🏗️.",
    "Flood extent 🌊 near Dhaka — how large?",
    "Smiley test 😀😃😄 and flags 🇺🇦🇫🇷 and family 👨‍👩‍👧‍👦.",
    "Zürich Hauptbahnhof: how many trains?",
    "Ørland air base — count the F-35s.",
    "São Paulo, Guarulhos airport (GRU): apron occupancy?",
    "Kraków, Łódź, Gdańsk: compare urban sprawl.",
    "İstanbul Boğazı: ships in transit?",
    "Reykjavík harbour — ice on the water?",
    "東京湾の船は何隻ですか？",
    "北京首都国际机场有多少架飞机？",
    "서울 한강의 다리는 몇 개입니까?",
    "Сколько самолётов на аэродроме Кубинка?",
    "Πόσα πλοία βρίσκονται στον Πειραιά;",
    "كم عدد السفن في ميناء جدة؟",
    "מה השתנה בנמל חיפה?",
    "भारत के इस बंदरगाह पर कितने जहाज हैं?",
    "ท่าเรือแหลมฉบังมีเรือกี่ลำ?",
    "Việt Nam: cảng Hải Phòng có bao nhiêu tàu?",
    "math: ∑ x² ≤ 10⁶, π ≈ 3.14159, √2, ∞, ≠, ±0.5",
    "quotes “double” ‘single’ «guillemets» „low“",
    "dashes - – — and ellipsis … and bullet •",
    "control-ish: \u00a0non-breaking\u00a0space, zero\u200bwidth, soft\u00adhyphen",
    "combining: e\u0301 vs é, n\u0303 vs ñ",
    "<image>\nWhat is in the picture?",
    "<optical> <image> How many aircraft?",
    "<sar> <image> <sar> <image> what changed?",
    "<s>USER: hi</s>",
    "A <SEG> token and </s> and <unk> and <pad> in text.",
    "<p> harbour crane </p> {<10><20><40><60>|<30>}{<50><50><70><80>|<-15>}",
    "tabs\tbetween\twords",
    "trailing spaces   ",
    "   leading spaces",
    "two  spaces, three   spaces, four    spaces, eight        spaces",
    "line one\nline two\n\nline four",
    "windows\r\nline endings\r\n",
    "mixed \n \n  \t \n",
    "",
    " ",
    "  ",
    "\n",
    "a",
    "1234567890",
    "0.000001 1e-9 3.0E+8 0x1F 0b1010 007",
    "ID: AB-1234/xyz_99 #42 @analyst $100 50% & more",
    "path/to/file.tif, s3://bucket/key, C:\\data\\img.jp2",
    "https://example.org/tiles/{z}/{x}/{y}.png?key=abc&v=2",
    "email analyst@example.org; phone +1 (555) 010-0199",
    "JSON {\"lat\": 51.5, \"lon\": -0.12, \"tags\": [\"port\", \"oil\"]}",
    "Markdown **bold** _it_ `code` > quote",
    "ALL CAPS REPORT: NO ACTIVITY OBSERVED.",
    "camelCaseIdentifier snake_case_identifier kebab-case-identifier",
    "Rare bytes: \x01\x02 \x7f and \u00ff\u0100 and \U0001f600\U0001f9ff",
    "Private use \ue000 and replacement \ufffd and BOM \ufeff",
]

PLACES = ["Port of Rotterdam", "Ramstein AB", "Gwadar", "Jebel Ali", "Sevastopol", "Nagoya", "Mombasa",
          "Ushuaia", "Norilsk", "Lagos", "Valparaíso", "Tromsø", "Ürümqi", "Džankoj", "Ciudad Juárez"]
OBJECTS = ["aircraft", "ships", "tanks", "trucks", "containers", "cranes", "buildings", "tents", "fires", "craters"]
TEMPLATES = [
    "How many {o} are visible at {p}?",
    "Describe the {o} near {p} in detail.",
    "[refer] Give me the location of <p> {o} </p> at {p}",
    "[grounding] Describe {p}, marking the {o}.",
    "[identify] What is the object present at {{<{a}><{b}><{c}><{d}>|<{t}>}} near {p}",
    "At {lat:.4f}, {lon:.4f} ({p}): are there {o}?",
    "{p}  —  {o}:   {n}  (±{e})",
    "Compare {o} counts: {n} on 2024-{m:02d}-{d2:02d} vs {e} today.\nAnything new at {p}?",
    "{o} {emoji} at {p}?",
]
EMOJIS = ["🛰️", "✈️", "🚢", "🔥", "🌊", "🏭", "⚠️", "📍", "🧭", "🛢️"]


def corpus():
    lines = list(QUESTIONS)
    k = 0
    for ti, t in enumerate(TEMPLATES):
        for pi, p in enumerate(PLACES):
            k += 1
            o = OBJECTS[(ti * 3 + pi) % len(OBJECTS)]
            lines.append(t.format(o=o, p=p, a=(7 * k) % 60, b=(13 * k) % 60, c=40 + (7 * k) % 60, d=40 + (11 * k) % 60,
                                  t=(k * 17) % 181 - 90, lat=((k * 7919) % 18000) / 100 - 90,
                                  lon=((k * 104729) % 36000) / 100 - 180, n=k * 37 % 1000, e=k % 17,
                                  m=1 + k % 12, d2=1 + k % 28, emoji=EMOJIS[k % len(EMOJIS)]))
    # whitespace runs of every length 1..16 around words and specials
    for n in range(1, 17):
        lines.append("word" + " " * n + "word")
        lines.append(" " * n + "<image>" + " " * n + "x")
        lines.append("a" + "\n" * (n % 4 + 1) + " " * (n % 5) + "b")
    # multi-turn chat texts as GeoChat renders them
    sys_text = ("A chat between a curious human and an artificial intelligence assistant. "
                "The assistant gives helpful, detailed, and polite answers to the human's questions.")
    for q in QUESTIONS[:20]:
        lines.append(f"{sys_text} USER: <image>\n{q} ASSISTANT:")
        lines.append(f"USER: {q} ASSISTANT: There are 3 of them.</s>USER: and now? ASSISTANT:")
    return lines


if __name__ == "__main__":
    c = corpus()
    with open(os.path.join(HERE, "tok_fixtures", "corpus.json"), "w", encoding="utf-8") as f:
        json.dump(c, f, ensure_ascii=False, indent=0)
        f.write("\n")
    print(f"{len(c)} prompts, {sum(len(s) for s in c)} characters")
