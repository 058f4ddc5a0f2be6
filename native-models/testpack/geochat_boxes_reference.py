#!/usr/bin/env python3
"""Expected corners for native-models/testpack/geochatBoxes.test.ts, computed by GeoChat's OWN code (run once, numbers committed).

    python3 native-models/testpack/geochat_boxes_reference.py /path/to/GeoChat.git > native-models/testpack/geochat_boxes_reference.json

The argument is a git directory of https://github.com/mbzuai-oryx/GeoChat (a bare clone is enough). The functions are
read from the commit below with `git show` and executed as they are (nothing of them is copied here):
- `bbox_and_angle_to_polygon` from geochat/serve/cli.py (the evaluation-side helper: a predicted box scaled to the
  504-px evaluation image, x5.04, then turned by its angle) -- the rotation convention Vantage follows;
- `rotate_bbox` from geochat_demo.py (the demo's drawing helper, cv2.getRotationMatrix2D) -- recorded only to show
  that it turns the other way; it needs cv2, so it is skipped when cv2 is absent;
- `expand2square` from geochat/mm_utils.py (how GeoChat pads an image to a square before the 0-100 grid applies).
Needs numpy and PIL (expand2square); Debian's python3-numpy / python3-pil suffice.
"""
import ast
import json
import math
import subprocess
import sys

COMMIT = '4850920e005a849bd224d0ce35aa9db031fa5155'

# (box in grid units x0, y0, x1, y1, theta) -> expected corners; the boxes are those of the test strings in
# native-models/testpack/geochatBoxes.test.ts (demo example, and answers in the grammar geochat_demo.py parses)
BOXES = [
    (8, 26, 22, 37, 0),      # geochat_demo.py example "[identify] what is this {<8><26><22><37>}"
    (10, 20, 40, 60, 30),    # the test pack's GeoChat mode
    (34, 9, 44, 19, -45),
    (55, 60, 70, 78, 90),
]


def upstream(repo, path, names):
    src = subprocess.run(['git', '--git-dir', repo, 'show', f'{COMMIT}:{path}'], check=True, capture_output=True, text=True).stdout
    tree = ast.parse(src)
    ns = {'math': math}
    try:
        import numpy as np
        ns['np'] = np
    except ImportError:
        pass
    try:
        from PIL import Image
        ns['Image'] = Image
    except ImportError:
        pass
    try:
        import cv2
        ns['cv2'] = cv2
    except ImportError:
        pass
    found = {}
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and node.name in names:
            exec(compile(ast.Module(body=[node], type_ignores=[]), path, 'exec'), ns)
            found[node.name] = ns[node.name]
    return found


def main():
    repo = sys.argv[1]
    poly = upstream(repo, 'geochat/serve/cli.py', {'bbox_and_angle_to_polygon'})['bbox_and_angle_to_polygon']
    out = {'geochat_commit': COMMIT, 'helper': 'geochat/serve/cli.py bbox_and_angle_to_polygon', 'cases': []}
    for (x0, y0, x1, y1, a) in BOXES:
        grid = [float(v) for v in poly(x0, y0, x1, y1, a)]
        # the evaluation image: the grid x5.04 (504 px), as cli.py scales a prediction before drawing it
        px504 = [float(v) for v in poly(x0 * 5.04, y0 * 5.04, x1 * 5.04, y1 * 5.04, a)]
        out['cases'].append({'box': [x0, y0, x1, y1, a], 'corners_grid': grid, 'corners_504': px504})
    demo = upstream(repo, 'geochat_demo.py', {'rotate_bbox'})
    if 'cv2' in demo.get('rotate_bbox', poly).__globals__:
        rb = demo['rotate_bbox']
        out['demo_rotate_bbox'] = [{'box': [x0, y0, x1, y1, a], 'corners': rb((x0, y0), (x1, y1), a).tolist()} for (x0, y0, x1, y1, a) in BOXES]
    e2s = upstream(repo, 'geochat/mm_utils.py', {'expand2square'}).get('expand2square')
    if e2s and 'Image' in e2s.__globals__:
        Image = e2s.__globals__['Image']
        pads = []
        for (w, h) in [(300, 200), (200, 300)]:
            img = Image.new('RGB', (w, h), (255, 255, 255))
            sq = e2s(img, (0, 0, 0))
            # where the image landed on the square: the bounding box of its white pixels
            pads.append({'size': [w, h], 'square': list(sq.size), 'image_at': list(sq.getbbox())})
        out['expand2square'] = pads
    json.dump(out, sys.stdout, indent=1)
    sys.stdout.write('\n')


if __name__ == '__main__':
    main()
