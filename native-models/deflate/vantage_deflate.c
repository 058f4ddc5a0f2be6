// zlib-stream inflate through libdeflate, for the TIFF block decoder (main/imagery/fastInflate.ts). libdeflate is
// opened at run time (dlopen of libdeflate.so.0, the library libtiff and GDAL already use), so neither its headers
// nor the library are needed to build: where it is missing, available() is false and the decoder keeps node:zlib.
// inflate(src, dst) → bytes written, or -1 (bad data, output larger than dst, no library): the caller then falls
// back to node:zlib, which reports the error as before. One decompressor per thread (tile and decode workers).
// deinterleave4(src, s, srcStride, rows, n, o0, o1, o2, o3, o, outStride) → 0, or -1 (out of bounds: the caller
// uses its JS path): `rows` rows of `n` 4 × 8-bit pixels from src at byte s (rows srcStride bytes apart) into the 4
// band arrays at element o (rows outStride apart).
#include <stdint.h>
#include <string.h>
#include <dlfcn.h>
#include <node_api.h>
#include <pthread.h>
#include <stddef.h>

typedef void *(*alloc_fn)(void);
typedef int (*zlib_fn)(void *d, const void *in, size_t in_n, void *out, size_t out_n, size_t *actual);

static alloc_fn p_alloc;
static zlib_fn p_zlib;
static pthread_once_t once = PTHREAD_ONCE_INIT;
static __thread void *decompressor;

static void load(void) {
  void *h = dlopen("libdeflate.so.0", RTLD_NOW | RTLD_LOCAL);
  if (!h) return;
  alloc_fn a = (alloc_fn)dlsym(h, "libdeflate_alloc_decompressor");
  zlib_fn z = (zlib_fn)dlsym(h, "libdeflate_zlib_decompress");
  if (a && z) {
    p_alloc = a;
    p_zlib = z;
  }
}

static napi_value num(napi_env env, double v) {
  napi_value r;
  napi_create_double(env, v, &r);
  return r;
}

static napi_value available(napi_env env, napi_callback_info info) {
  (void)info;
  pthread_once(&once, load);
  napi_value r;
  napi_get_boolean(env, p_zlib != NULL, &r);
  return r;
}

static napi_value inflate(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 2) return num(env, -1);
  pthread_once(&once, load);
  if (!p_zlib) return num(env, -1);
  if (!decompressor) decompressor = p_alloc();
  if (!decompressor) return num(env, -1);
  void *in, *out;
  size_t in_n, out_n;
  napi_typedarray_type t;
  if (napi_get_typedarray_info(env, argv[0], &t, &in_n, &in, NULL, NULL) != napi_ok || t != napi_uint8_array) return num(env, -1);
  if (napi_get_typedarray_info(env, argv[1], &t, &out_n, &out, NULL, NULL) != napi_ok || t != napi_uint8_array) return num(env, -1);
  size_t got = 0;
  if (p_zlib(decompressor, in, in_n, out, out_n, &got) != 0) return num(env, -1);
  return num(env, (double)got);
}

static int u8(napi_env env, napi_value v, uint8_t **p, size_t *n) {
  napi_typedarray_type t;
  void *d;
  if (napi_get_typedarray_info(env, v, &t, n, &d, NULL, NULL) != napi_ok || t != napi_uint8_array) return -1;
  *p = (uint8_t *)d;
  return 0;
}

static napi_value deinterleave4(napi_env env, napi_callback_info info) {
  size_t argc = 11;
  napi_value argv[11];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 11) return num(env, -1);
  uint8_t *src, *o[4];
  size_t srcN, on[4];
  int64_t v[6]; /* s, srcStride, rows, n, o, outStride */
  const int at[6] = {1, 2, 3, 4, 9, 10};
  if (u8(env, argv[0], &src, &srcN)) return num(env, -1);
  for (int b = 0; b < 4; b++)
    if (u8(env, argv[5 + b], &o[b], &on[b])) return num(env, -1);
  for (int i = 0; i < 6; i++)
    if (napi_get_value_int64(env, argv[at[i]], &v[i]) != napi_ok || v[i] < 0) return num(env, -1);
  int64_t s = v[0], ss = v[1], rows = v[2], n = v[3], oo = v[4], os = v[5];
  if (rows == 0 || n == 0) return num(env, 0);
  if (s + (rows - 1) * ss + 4 * n > (int64_t)srcN) return num(env, -1);
  for (int b = 0; b < 4; b++)
    if (oo + (rows - 1) * os + n > (int64_t)on[b]) return num(env, -1);
  for (int64_t r = 0; r < rows; r++) {
    const uint8_t *p = src + s + r * ss;
    uint8_t *a = o[0] + oo + r * os, *b = o[1] + oo + r * os, *c = o[2] + oo + r * os, *d = o[3] + oo + r * os;
    for (int64_t k = 0; k < n; k++) {
      a[k] = p[4 * k];
      b[k] = p[4 * k + 1];
      c[k] = p[4 * k + 2];
      d[k] = p[4 * k + 3];
    }
  }
  return num(env, 0);
}

NAPI_MODULE_INIT() {
  napi_property_descriptor props[] = {
      {"available", NULL, available, NULL, NULL, NULL, napi_default, NULL},
      {"inflate", NULL, inflate, NULL, NULL, NULL, napi_default, NULL},
      {"deinterleave4", NULL, deinterleave4, NULL, NULL, NULL, napi_default, NULL},
  };
  napi_define_properties(env, exports, 3, props);
  return exports;
}
