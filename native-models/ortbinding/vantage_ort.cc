// vantage_ort: a small N-API addon over the onnxruntime C/C++ API (ORT 1.29, the same libonnxruntime.so.1 that
// onnxruntime-node loads) giving the decode loop what the stock binding cannot:
//   * tensors that stay on the execution provider's device between runs (the KV cache, the embedding of the next
//     token, logits), read back in slices;
//   * IO binding, including one tensor bound as both an input and an output (GroupQueryAttention's shared
//     past/present buffer: the cache is written in place);
//   * CUDA graphs (enable_cuda_graph + a per-run graph annotation) once every bound address and shape is fixed.
// Runs execute on the libuv thread pool; JS gets a Promise. Host inputs are wrapped without a copy and kept alive
// until the run ends. Device memory is owned by DeviceTensor (cudaMalloc'd, or aligned host memory on CPU) or by
// onnxruntime (outputs it allocated); the CUDA runtime is loaded with dlopen, only when a CUDA session is made,
// so the addon builds and runs on machines without CUDA.
#include <napi.h>
#include <onnxruntime_cxx_api.h>

#include <dlfcn.h>

#include <cstdlib>
#include <cstring>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

// ---------------------------------------------------------------------------------------------- CUDA runtime
struct CudaRt {
  using Malloc = int (*)(void**, size_t);
  using Free = int (*)(void*);
  using Memcpy = int (*)(void*, const void*, size_t, int);
  using Memset = int (*)(void*, int, size_t);
  using SetDevice = int (*)(int);
  using MemGetInfo = int (*)(size_t*, size_t*);
  using Sync = int (*)();
  using ErrStr = const char* (*)(int);
  Malloc malloc = nullptr;
  Free free = nullptr;
  Memcpy memcpy = nullptr;
  Memset memset = nullptr;
  SetDevice setDevice = nullptr;
  MemGetInfo memGetInfo = nullptr;
  Sync sync = nullptr;
  ErrStr errStr = nullptr;
  std::string loadError;
  bool ok = false;
};
constexpr int kH2D = 1, kD2H = 2;

CudaRt& cudart() {
  static CudaRt rt;
  static std::once_flag once;
  std::call_once(once, [] {
    void* h = nullptr;
    for (const char* name : {"libcudart.so.13", "libcudart.so.12", "libcudart.so"}) {
      h = dlopen(name, RTLD_NOW | RTLD_GLOBAL);
      if (h) break;
    }
    if (!h) {
      rt.loadError = "the CUDA runtime (libcudart.so.13) is not on the library path";
      return;
    }
    rt.malloc = reinterpret_cast<CudaRt::Malloc>(dlsym(h, "cudaMalloc"));
    rt.free = reinterpret_cast<CudaRt::Free>(dlsym(h, "cudaFree"));
    rt.memcpy = reinterpret_cast<CudaRt::Memcpy>(dlsym(h, "cudaMemcpy"));
    rt.memset = reinterpret_cast<CudaRt::Memset>(dlsym(h, "cudaMemset"));
    rt.setDevice = reinterpret_cast<CudaRt::SetDevice>(dlsym(h, "cudaSetDevice"));
    rt.memGetInfo = reinterpret_cast<CudaRt::MemGetInfo>(dlsym(h, "cudaMemGetInfo"));
    rt.sync = reinterpret_cast<CudaRt::Sync>(dlsym(h, "cudaDeviceSynchronize"));
    rt.errStr = reinterpret_cast<CudaRt::ErrStr>(dlsym(h, "cudaGetErrorString"));
    rt.ok = rt.malloc && rt.free && rt.memcpy && rt.memset && rt.setDevice && rt.memGetInfo && rt.sync && rt.errStr;
    if (!rt.ok) rt.loadError = "libcudart lacks cudaMalloc/cudaMemcpy/…";
  });
  return rt;
}

void cudaCheck(int code, const char* what) {
  if (code != 0) throw std::runtime_error(std::string(what) + " failed: " + cudart().errStr(code));
}

// ---------------------------------------------------------------------------------------------- types
struct TypeInfo {
  const char* name;
  ONNXTensorElementDataType onnx;
  size_t bytes;
  napi_typedarray_type js;
};
const TypeInfo kTypes[] = {
    {"float32", ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT, 4, napi_float32_array},
    {"float16", ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT16, 2, napi_uint16_array},
    {"int64", ONNX_TENSOR_ELEMENT_DATA_TYPE_INT64, 8, napi_bigint64_array},
    {"int32", ONNX_TENSOR_ELEMENT_DATA_TYPE_INT32, 4, napi_int32_array},
    {"uint8", ONNX_TENSOR_ELEMENT_DATA_TYPE_UINT8, 1, napi_uint8_array},
    {"bool", ONNX_TENSOR_ELEMENT_DATA_TYPE_BOOL, 1, napi_uint8_array},
};

const TypeInfo& typeByName(const std::string& n) {
  for (const auto& t : kTypes)
    if (n == t.name) return t;
  throw std::runtime_error("unsupported tensor type \"" + n + "\"");
}
const TypeInfo* typeByOnnx(ONNXTensorElementDataType o) {
  for (const auto& t : kTypes)
    if (t.onnx == o) return &t;
  return nullptr;
}

size_t elementCount(const std::vector<int64_t>& dims) {
  size_t n = 1;
  for (auto d : dims) {
    if (d < 0) throw std::runtime_error("negative dimension");
    n *= static_cast<size_t>(d);
  }
  return n;
}

std::vector<int64_t> dimsFrom(const Napi::Value& v) {
  if (!v.IsArray()) throw std::runtime_error("dims must be an array of integers");
  auto a = v.As<Napi::Array>();
  std::vector<int64_t> dims(a.Length());
  for (uint32_t i = 0; i < a.Length(); i++) {
    Napi::Value e = a.Get(i);
    if (!e.IsNumber()) throw std::runtime_error("dims must be an array of integers");
    double d = e.As<Napi::Number>().DoubleValue();
    if (d < 0 || d != static_cast<double>(static_cast<int64_t>(d))) throw std::runtime_error("dims must be non-negative integers");
    dims[i] = static_cast<int64_t>(d);
  }
  return dims;
}

Napi::Array dimsTo(Napi::Env env, const std::vector<int64_t>& dims) {
  auto a = Napi::Array::New(env, dims.size());
  for (size_t i = 0; i < dims.size(); i++) a.Set(static_cast<uint32_t>(i), Napi::Number::New(env, static_cast<double>(dims[i])));
  return a;
}

Napi::Value makeTypedArray(Napi::Env env, napi_typedarray_type t, size_t n, Napi::ArrayBuffer ab) {
  napi_value v;
  if (napi_create_typedarray(env, t, n, ab, 0, &v) != napi_ok) throw std::runtime_error("could not create a typed array");
  return Napi::Value(env, v);
}

// ---------------------------------------------------------------------------------------------- session core
Ort::Env& ortEnv() {
  // ORT keeps one OrtEnv per process; onnxruntime-node's binding may have made it already, in which case this
  // returns the same one.
  static Ort::Env env(ORT_LOGGING_LEVEL_ERROR, "vantage-native");
  return env;
}

struct Core {
  std::unique_ptr<Ort::Session> session;
  std::string provider;  // "cpu" | "cuda"
  int deviceId = 0;
  bool cudaGraph = false;
  Ort::MemoryInfo cpuInfo{nullptr};
  Ort::MemoryInfo deviceInfo{nullptr};
  std::mutex runLock;  // one run at a time per session (a bound graph is not re-entrant)
  // runs queued or executing (touched on the JS thread only); release() while > 0 is deferred to the last one
  int inflight = 0;
  bool releasePending = false;
  void releaseNow() { session.reset(); }
  bool onCuda() const { return provider == "cuda"; }
};

// ---------------------------------------------------------------------------------------------- DeviceTensor
// Per-environment (main thread and each worker thread load the addon separately) constructor references.
struct AddonData {
  Napi::FunctionReference deviceTensor;
};
Napi::Function deviceTensorCtor(Napi::Env env) { return env.GetInstanceData<AddonData>()->deviceTensor.Value(); }

class DeviceTensor : public Napi::ObjectWrap<DeviceTensor> {
 public:
  static void Init(Napi::Env env, Napi::Object exports) {
    auto f = DefineClass(env, "DeviceTensor",
                         {InstanceAccessor<&DeviceTensor::Type>("type"), InstanceAccessor<&DeviceTensor::Dims>("dims"),
                          InstanceAccessor<&DeviceTensor::Location>("location"),
                          InstanceMethod<&DeviceTensor::Read>("read"), InstanceMethod<&DeviceTensor::Write>("write"),
                          InstanceMethod<&DeviceTensor::Fill>("fill"), InstanceMethod<&DeviceTensor::Dispose>("dispose")});
    auto* data = new AddonData();
    data->deviceTensor = Napi::Persistent(f);
    env.SetInstanceData<AddonData>(data);
    exports.Set("DeviceTensor", f);
  }
  explicit DeviceTensor(const Napi::CallbackInfo& info) : Napi::ObjectWrap<DeviceTensor>(info) {}
  ~DeviceTensor() override { release(); }

  // Wraps memory the addon allocates (zero-filled).
  static Napi::Object Allocate(Napi::Env env, std::shared_ptr<Core> core, const TypeInfo& t, std::vector<int64_t> dims) {
    auto obj = deviceTensorCtor(env).New({});
    auto* self = Unwrap(obj);
    self->core_ = std::move(core);
    self->type_ = &t;
    self->dims_ = std::move(dims);
    const size_t bytes = std::max<size_t>(1, elementCount(self->dims_) * t.bytes);
    if (self->core_->onCuda()) {
      auto& rt = cudart();
      cudaCheck(rt.setDevice(self->core_->deviceId), "cudaSetDevice");
      cudaCheck(rt.malloc(&self->own_, bytes), "cudaMalloc");
      cudaCheck(rt.memset(self->own_, 0, bytes), "cudaMemset");
      cudaCheck(rt.sync(), "cudaDeviceSynchronize");
    } else {
      self->own_ = std::aligned_alloc(64, (bytes + 63) / 64 * 64);
      if (!self->own_) throw std::runtime_error("out of host memory");
      std::memset(self->own_, 0, bytes);
    }
    self->value_ = Ort::Value::CreateTensor(self->core_->onCuda() ? self->core_->deviceInfo : self->core_->cpuInfo, self->own_,
                                            elementCount(self->dims_) * t.bytes, self->dims_.data(), self->dims_.size(), t.onnx);
    return obj;
  }

  // Takes an output onnxruntime allocated on the session's device.
  static Napi::Object Adopt(Napi::Env env, std::shared_ptr<Core> core, Ort::Value v) {
    auto info = v.GetTensorTypeAndShapeInfo();
    const TypeInfo* t = typeByOnnx(info.GetElementType());
    if (!t) throw std::runtime_error("output has an element type the addon does not read");
    auto obj = deviceTensorCtor(env).New({});
    auto* self = Unwrap(obj);
    self->core_ = std::move(core);
    self->type_ = t;
    self->dims_ = info.GetShape();
    self->value_ = std::move(v);
    return obj;
  }

  Ort::Value& value() {
    if (!value_) throw std::runtime_error("the device tensor was disposed");
    return value_;
  }
  const Core* core() const { return core_.get(); }
  // true when the memory lives on the CUDA device (onnxruntime outputs report their own location)
  bool onDevice() {
    auto mi = value().GetTensorMemoryInfo();
    return mi.GetDeviceType() == OrtMemoryInfoDeviceType_GPU;
  }

 private:
  void release() {
    value_ = Ort::Value{nullptr};
    if (own_) {
      if (core_ && core_->onCuda()) cudart().free(own_);
      else std::free(own_);
      own_ = nullptr;
    }
    core_.reset();
  }
  Napi::Value Type(const Napi::CallbackInfo& info) { return Napi::String::New(info.Env(), type_ ? type_->name : "disposed"); }
  Napi::Value Dims(const Napi::CallbackInfo& info) { return dimsTo(info.Env(), dims_); }
  Napi::Value Location(const Napi::CallbackInfo& info) {
    if (!value_) return Napi::String::New(info.Env(), "disposed");
    return Napi::String::New(info.Env(), onDevice() ? "cuda" : "cpu");
  }
  void checkRange(size_t offset, size_t count) {
    const size_t n = elementCount(dims_);
    if (offset > n || count > n - offset)
      throw std::runtime_error("range [" + std::to_string(offset) + ", +" + std::to_string(count) + ") is outside a tensor of " +
                               std::to_string(n) + " elements");
  }
  char* raw() { return static_cast<char*>(value().GetTensorMutableRawData()); }
  // A host → device cudaMemcpy from pageable memory may return before its DMA lands, on the legacy stream, while
  // onnxruntime runs on streams of its own: synchronise so the next run reads the new values. Device → host copies
  // complete before cudaMemcpy returns, and onnxruntime has synchronised its stream when a run resolves.
  void copy(void* dst, const void* src, size_t bytes, int kind) {
    if (bytes == 0) return;
    if (onDevice()) {
      cudaCheck(cudart().memcpy(dst, src, bytes, kind), "cudaMemcpy");
      if (kind == kH2D) cudaCheck(cudart().sync(), "cudaDeviceSynchronize");
    } else {
      std::memcpy(dst, src, bytes);
    }
  }

  // read(offsetElements = 0, count = all) → a new typed array (host copy of that slice)
  Napi::Value Read(const Napi::CallbackInfo& info) {
    auto env = info.Env();
    try {
      const size_t n = elementCount(dims_);
      size_t offset = info.Length() > 0 && info[0].IsNumber() ? info[0].As<Napi::Number>().Int64Value() : 0;
      size_t count = info.Length() > 1 && info[1].IsNumber() ? info[1].As<Napi::Number>().Int64Value() : n - std::min(offset, n);
      checkRange(offset, count);
      auto ab = Napi::ArrayBuffer::New(env, std::max<size_t>(1, count * type_->bytes));
      copy(ab.Data(), raw() + offset * type_->bytes, count * type_->bytes, kD2H);
      return makeTypedArray(env, type_->js, count, ab);
    } catch (const std::exception& e) {
      Napi::Error::New(env, e.what()).ThrowAsJavaScriptException();
      return env.Undefined();
    }
  }
  // write(typedArray, offsetElements = 0): host → tensor
  Napi::Value Write(const Napi::CallbackInfo& info) {
    auto env = info.Env();
    try {
      if (info.Length() < 1 || !info[0].IsTypedArray()) throw std::runtime_error("write takes a typed array");
      auto ta = info[0].As<Napi::TypedArray>();
      if (ta.TypedArrayType() != type_->js) throw std::runtime_error(std::string("write: the tensor is ") + type_->name + ", the array's type does not match");
      size_t offset = info.Length() > 1 && info[1].IsNumber() ? info[1].As<Napi::Number>().Int64Value() : 0;
      checkRange(offset, ta.ElementLength());
      const char* src = static_cast<const char*>(ta.ArrayBuffer().Data()) + ta.ByteOffset();
      copy(raw() + offset * type_->bytes, src, ta.ElementLength() * type_->bytes, kH2D);
      return env.Undefined();
    } catch (const std::exception& e) {
      Napi::Error::New(env, e.what()).ThrowAsJavaScriptException();
      return env.Undefined();
    }
  }
  // fill(byte = 0): memset the whole tensor
  Napi::Value Fill(const Napi::CallbackInfo& info) {
    auto env = info.Env();
    try {
      int byte = info.Length() > 0 && info[0].IsNumber() ? info[0].As<Napi::Number>().Int32Value() : 0;
      const size_t bytes = elementCount(dims_) * type_->bytes;
      if (onDevice()) {
        cudaCheck(cudart().memset(raw(), byte, bytes), "cudaMemset");
        cudaCheck(cudart().sync(), "cudaDeviceSynchronize");
      } else {
        std::memset(raw(), byte, bytes);
      }
      return env.Undefined();
    } catch (const std::exception& e) {
      Napi::Error::New(env, e.what()).ThrowAsJavaScriptException();
      return env.Undefined();
    }
  }
  Napi::Value Dispose(const Napi::CallbackInfo& info) {
    release();
    return info.Env().Undefined();
  }

  std::shared_ptr<Core> core_;
  const TypeInfo* type_ = nullptr;
  std::vector<int64_t> dims_;
  Ort::Value value_{nullptr};
  void* own_ = nullptr;
};

// ---------------------------------------------------------------------------------------------- run worker
enum class OutKind { Host, Device, Bound };
struct OutSpec {
  std::string name;
  OutKind kind;
};

class RunWorker : public Napi::AsyncWorker {
 public:
  RunWorker(Napi::Env env, std::shared_ptr<Core> core)
      : Napi::AsyncWorker(env),
        core_(std::move(core)),
        deferred_(Napi::Promise::Deferred::New(env)),
        binding_(std::make_unique<Ort::IoBinding>(*core_->session)) {
    core_->inflight++;
  }
  // runs on the JS thread after OnOK/OnError: the binding goes before a release() that waited for this run
  ~RunWorker() override {
    binding_.reset();
    results_.clear();
    hostInputs.clear();
    if (--core_->inflight == 0 && core_->releasePending) core_->releaseNow();
  }

  Napi::Promise promise() { return deferred_.Promise(); }
  std::vector<Napi::ObjectReference> keep;  // host arrays and device tensors alive until the run ends
  std::vector<Ort::Value> hostInputs;
  std::vector<OutSpec> outs;
  Ort::IoBinding& binding() { return *binding_; }
  int graphId = -2;  // -2: no annotation

 protected:
  void Execute() override {
    try {
      std::lock_guard<std::mutex> lock(core_->runLock);
      Ort::RunOptions ro;
      if (graphId != -2) ro.AddConfigEntry("gpu_graph_id", std::to_string(graphId).c_str());
      core_->session->Run(ro, *binding_);
      results_ = binding_->GetOutputValues();
      names_ = binding_->GetOutputNames();
    } catch (const std::exception& e) {
      SetError(e.what());
    }
  }
  void OnOK() override {
    auto env = Env();
    Napi::HandleScope scope(env);
    try {
      auto result = Napi::Object::New(env);
      for (size_t i = 0; i < names_.size(); i++) {
        const OutSpec* spec = nullptr;
        for (const auto& o : outs)
          if (o.name == names_[i]) spec = &o;
        if (!spec || spec->kind == OutKind::Bound) continue;  // written into the caller's tensor
        if (spec->kind == OutKind::Device) {
          result.Set(names_[i], DeviceTensor::Adopt(env, core_, std::move(results_[i])));
          continue;
        }
        auto info = results_[i].GetTensorTypeAndShapeInfo();
        const TypeInfo* t = typeByOnnx(info.GetElementType());
        if (!t) throw std::runtime_error("output \"" + names_[i] + "\" has an element type the addon does not read");
        const size_t n = info.GetElementCount();
        auto ab = Napi::ArrayBuffer::New(env, std::max<size_t>(1, n * t->bytes));
        if (n) std::memcpy(ab.Data(), results_[i].GetTensorRawData(), n * t->bytes);
        auto o = Napi::Object::New(env);
        o.Set("type", t->name);
        o.Set("dims", dimsTo(env, info.GetShape()));
        o.Set("data", makeTypedArray(env, t->js, n, ab));
        result.Set(names_[i], o);
      }
      deferred_.Resolve(result);
    } catch (const std::exception& e) {
      deferred_.Reject(Napi::Error::New(env, e.what()).Value());
    }
  }
  void OnError(const Napi::Error& e) override { deferred_.Reject(e.Value()); }

 private:
  std::shared_ptr<Core> core_;
  Napi::Promise::Deferred deferred_;
  std::unique_ptr<Ort::IoBinding> binding_;
  std::vector<Ort::Value> results_;
  std::vector<std::string> names_;
};

// ---------------------------------------------------------------------------------------------- Session
class Session : public Napi::ObjectWrap<Session> {
 public:
  static void Init(Napi::Env env, Napi::Object exports) {
    auto f = DefineClass(env, "Session",
                         {InstanceAccessor<&Session::Provider>("provider"), InstanceAccessor<&Session::CudaGraph>("cudaGraph"),
                          InstanceAccessor<&Session::Inputs>("inputs"), InstanceAccessor<&Session::Outputs>("outputs"),
                          InstanceMethod<&Session::Alloc>("alloc"), InstanceMethod<&Session::Run>("run"),
                          InstanceMethod<&Session::Release>("release")});
    exports.Set("Session", f);
  }

  // new Session(path | modelBytes, { provider: 'cpu'|'cuda', deviceId, cudaGraph, intraOpThreads, sessionConfig: { key: value } })
  // (model bytes: a graph held in memory, e.g. the CPU int8 copy; its external weights are found through the
  // sessionConfig entry session.model_external_initializers_file_folder_path)
  explicit Session(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Session>(info) {
    auto env = info.Env();
    try {
      const bool fromBytes = info.Length() >= 1 && info[0].IsBuffer();
      if (info.Length() < 1 || !(info[0].IsString() || fromBytes)) throw std::runtime_error("Session(path, options): path must be a string or a Buffer of model bytes");
      const std::string path = fromBytes ? std::string() : info[0].As<Napi::String>().Utf8Value();
      auto opts = info.Length() > 1 && info[1].IsObject() ? info[1].As<Napi::Object>() : Napi::Object::New(env);
      auto core = std::make_shared<Core>();
      core->provider = opts.Has("provider") ? opts.Get("provider").As<Napi::String>().Utf8Value() : "cpu";
      core->deviceId = opts.Has("deviceId") ? opts.Get("deviceId").As<Napi::Number>().Int32Value() : 0;
      core->cudaGraph = opts.Has("cudaGraph") && opts.Get("cudaGraph").ToBoolean();
      Ort::SessionOptions so;
      so.SetGraphOptimizationLevel(GraphOptimizationLevel::ORT_ENABLE_ALL);
      so.SetLogSeverityLevel(3);
      if (opts.Has("intraOpThreads")) so.SetIntraOpNumThreads(opts.Get("intraOpThreads").As<Napi::Number>().Int32Value());
      if (opts.Has("sessionConfig") && opts.Get("sessionConfig").IsObject()) {  // e.g. session.intra_op.allow_spinning = "0"
        auto cfg = opts.Get("sessionConfig").As<Napi::Object>();
        auto keys = cfg.GetPropertyNames();
        for (uint32_t i = 0; i < keys.Length(); i++) {
          const std::string k = keys.Get(i).ToString().Utf8Value();
          so.AddConfigEntry(k.c_str(), cfg.Get(k).ToString().Utf8Value().c_str());
        }
      }
      if (core->provider == "cuda") {
        auto& rt = cudart();
        if (!rt.ok) throw std::runtime_error(rt.loadError);
        const auto& api = Ort::GetApi();
        OrtCUDAProviderOptionsV2* cuda = nullptr;
        Ort::ThrowOnError(api.CreateCUDAProviderOptions(&cuda));
        std::unique_ptr<OrtCUDAProviderOptionsV2, void (*)(OrtCUDAProviderOptionsV2*)> guard(cuda, api.ReleaseCUDAProviderOptions);
        const std::string dev = std::to_string(core->deviceId);
        const char* keys[] = {"device_id", "enable_cuda_graph", "cudnn_conv_algo_search", "do_copy_in_default_stream"};
        const char* vals[] = {dev.c_str(), core->cudaGraph ? "1" : "0", "HEURISTIC", "1"};
        Ort::ThrowOnError(api.UpdateCUDAProviderOptions(cuda, keys, vals, 4));
        so.AppendExecutionProvider_CUDA_V2(*cuda);
        core->deviceInfo = Ort::MemoryInfo("Cuda", OrtDeviceAllocator, core->deviceId, OrtMemTypeDefault);
      } else if (core->provider != "cpu") {
        throw std::runtime_error("provider must be \"cpu\" or \"cuda\", got \"" + core->provider + "\"");
      }
      core->cpuInfo = Ort::MemoryInfo::CreateCpu(OrtDeviceAllocator, OrtMemTypeDefault);
      if (!core->onCuda()) core->deviceInfo = Ort::MemoryInfo::CreateCpu(OrtDeviceAllocator, OrtMemTypeDefault);
      if (fromBytes) {
        auto bytes = info[0].As<Napi::Buffer<uint8_t>>();
        core->session = std::make_unique<Ort::Session>(ortEnv(), static_cast<const void*>(bytes.Data()), bytes.Length(), so);
      } else {
        core->session = std::make_unique<Ort::Session>(ortEnv(), path.c_str(), so);
      }
      core_ = core;
    } catch (const std::exception& e) {
      const bool cuda = info.Length() > 1 && info[1].IsObject() && info[1].As<Napi::Object>().Get("provider").ToString().Utf8Value() == "cuda";
      Napi::Error::New(env, std::string(cuda ? "CUDA session: " : "") + e.what()).ThrowAsJavaScriptException();
    }
  }

 private:
  Core& core() {
    if (!core_ || !core_->session || core_->releasePending) throw std::runtime_error("the session was released");
    return *core_;
  }
  Napi::Value Provider(const Napi::CallbackInfo& info) { return Napi::String::New(info.Env(), core_ ? core_->provider : "released"); }
  Napi::Value CudaGraph(const Napi::CallbackInfo& info) { return Napi::Boolean::New(info.Env(), core_ && core_->cudaGraph); }

  Napi::Value describe(Napi::Env env, bool inputs) {
    try {
      auto& s = *core().session;
      const size_t n = inputs ? s.GetInputCount() : s.GetOutputCount();
      Ort::AllocatorWithDefaultOptions alloc;
      auto arr = Napi::Array::New(env, n);
      for (size_t i = 0; i < n; i++) {
        auto name = inputs ? s.GetInputNameAllocated(i, alloc) : s.GetOutputNameAllocated(i, alloc);
        auto ti = inputs ? s.GetInputTypeInfo(i) : s.GetOutputTypeInfo(i);
        auto o = Napi::Object::New(env);
        o.Set("name", name.get());
        if (ti.GetONNXType() == ONNX_TYPE_TENSOR) {
          auto ts = ti.GetTensorTypeAndShapeInfo();
          const TypeInfo* t = typeByOnnx(ts.GetElementType());
          o.Set("type", t ? t->name : "other");
          auto shape = ts.GetShape();
          std::vector<const char*> sym(shape.size());
          ts.GetSymbolicDimensions(sym.data(), sym.size());
          auto dims = Napi::Array::New(env, shape.size());
          for (size_t k = 0; k < shape.size(); k++) {
            if (shape[k] >= 0) dims.Set(static_cast<uint32_t>(k), Napi::Number::New(env, static_cast<double>(shape[k])));
            else dims.Set(static_cast<uint32_t>(k), Napi::String::New(env, sym[k] && *sym[k] ? sym[k] : "?"));
          }
          o.Set("dims", dims);
        } else {
          o.Set("type", "other");
          o.Set("dims", Napi::Array::New(env, 0));
        }
        arr.Set(static_cast<uint32_t>(i), o);
      }
      return arr;
    } catch (const std::exception& e) {
      Napi::Error::New(env, e.what()).ThrowAsJavaScriptException();
      return env.Undefined();
    }
  }
  Napi::Value Inputs(const Napi::CallbackInfo& info) { return describe(info.Env(), true); }
  Napi::Value Outputs(const Napi::CallbackInfo& info) { return describe(info.Env(), false); }

  // alloc(type, dims) → DeviceTensor on the session's device, zero-filled
  Napi::Value Alloc(const Napi::CallbackInfo& info) {
    auto env = info.Env();
    try {
      core();
      if (info.Length() < 2 || !info[0].IsString()) throw std::runtime_error("alloc(type, dims)");
      return DeviceTensor::Allocate(env, core_, typeByName(info[0].As<Napi::String>()), dimsFrom(info[1]));
    } catch (const std::exception& e) {
      Napi::Error::New(env, e.what()).ThrowAsJavaScriptException();
      return env.Undefined();
    }
  }

  // run(feeds, outputs, { graphId }) → Promise<{ name: HostTensor | DeviceTensor }>
  //   feeds:   name → DeviceTensor | { type, dims, data: TypedArray }
  //   outputs: name → 'host' (copied back) | 'device' (a new DeviceTensor) | DeviceTensor (written in place)
  Napi::Value Run(const Napi::CallbackInfo& info) {
    auto env = info.Env();
    try {
      auto& c = core();
      if (info.Length() < 2 || !info[0].IsObject() || !info[1].IsObject()) throw std::runtime_error("run(feeds, outputs[, options])");
      auto* w = new RunWorker(env, core_);
      std::unique_ptr<RunWorker> guard(w);
      auto feeds = info[0].As<Napi::Object>();
      auto names = feeds.GetPropertyNames();
      for (uint32_t i = 0; i < names.Length(); i++) {
        const std::string name = names.Get(i).As<Napi::String>();
        auto v = feeds.Get(name);
        if (!v.IsObject()) throw std::runtime_error("feed \"" + name + "\" must be a DeviceTensor or { type, dims, data }");
        auto o = v.As<Napi::Object>();
        if (o.InstanceOf(deviceTensorCtor(env))) {
          auto* dt = DeviceTensor::Unwrap(o);
          if (dt->core() && dt->core()->onCuda() != c.onCuda()) throw std::runtime_error("feed \"" + name + "\" lives on another device");
          w->binding().BindInput(name.c_str(), dt->value());
          w->keep.push_back(Napi::Persistent(o));
          continue;
        }
        const TypeInfo& t = typeByName(o.Get("type").As<Napi::String>());
        auto dims = dimsFrom(o.Get("dims"));
        auto data = o.Get("data");
        if (!data.IsTypedArray()) throw std::runtime_error("feed \"" + name + "\": data must be a typed array");
        auto ta = data.As<Napi::TypedArray>();
        if (ta.TypedArrayType() != t.js) throw std::runtime_error("feed \"" + name + "\": data's array type does not match " + t.name);
        if (ta.ElementLength() != elementCount(dims)) {
          throw std::runtime_error("feed \"" + name + "\": " + std::to_string(ta.ElementLength()) + " elements for dims holding " +
                                   std::to_string(elementCount(dims)));
        }
        void* p = static_cast<char*>(ta.ArrayBuffer().Data()) + ta.ByteOffset();
        w->hostInputs.push_back(Ort::Value::CreateTensor(c.cpuInfo, p, ta.ByteLength(), dims.data(), dims.size(), t.onnx));
        w->binding().BindInput(name.c_str(), w->hostInputs.back());
        w->keep.push_back(Napi::Persistent(data.As<Napi::Object>()));
      }
      auto outs = info[1].As<Napi::Object>();
      auto onames = outs.GetPropertyNames();
      for (uint32_t i = 0; i < onames.Length(); i++) {
        const std::string name = onames.Get(i).As<Napi::String>();
        auto v = outs.Get(name);
        if (v.IsString()) {
          const std::string kind = v.As<Napi::String>();
          if (kind == "host") {
            w->binding().BindOutput(name.c_str(), c.cpuInfo);
            w->outs.push_back({name, OutKind::Host});
          } else if (kind == "device") {
            w->binding().BindOutput(name.c_str(), c.deviceInfo);
            w->outs.push_back({name, OutKind::Device});
          } else {
            throw std::runtime_error("output \"" + name + "\": 'host', 'device' or a DeviceTensor, got '" + kind + "'");
          }
        } else if (v.IsObject() && v.As<Napi::Object>().InstanceOf(deviceTensorCtor(env))) {
          auto* dt = DeviceTensor::Unwrap(v.As<Napi::Object>());
          w->binding().BindOutput(name.c_str(), dt->value());
          w->keep.push_back(Napi::Persistent(v.As<Napi::Object>()));
          w->outs.push_back({name, OutKind::Bound});
        } else {
          throw std::runtime_error("output \"" + name + "\": 'host', 'device' or a DeviceTensor");
        }
      }
      if (info.Length() > 2 && info[2].IsObject()) {
        auto ro = info[2].As<Napi::Object>();
        if (ro.Has("graphId") && ro.Get("graphId").IsNumber()) w->graphId = ro.Get("graphId").As<Napi::Number>().Int32Value();
      }
      auto promise = w->promise();
      guard.release()->Queue();
      return promise;
    } catch (const std::exception& e) {
      Napi::Error::New(env, e.what()).ThrowAsJavaScriptException();
      return env.Undefined();
    }
  }

  Napi::Value Release(const Napi::CallbackInfo& info) {
    // a run still in flight keeps the session until it ends (its worker releases it then)
    if (core_) {
      if (core_->inflight > 0) core_->releasePending = true;
      else core_->releaseNow();
    }
    return info.Env().Undefined();
  }

  std::shared_ptr<Core> core_;
};

// ---------------------------------------------------------------------------------------------- module
Napi::Value Version(const Napi::CallbackInfo& info) { return Napi::String::New(info.Env(), Ort::GetVersionString()); }

Napi::Value Providers(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  auto list = Ort::GetAvailableProviders();
  auto a = Napi::Array::New(env, list.size());
  for (size_t i = 0; i < list.size(); i++) a.Set(static_cast<uint32_t>(i), list[i]);
  return a;
}

// cudaInfo() → { ok, reason } or { ok, free, total } for device 0 (bytes); loads libcudart on first use
Napi::Value CudaInfo(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  auto o = Napi::Object::New(env);
  auto& rt = cudart();
  if (!rt.ok) {
    o.Set("ok", false);
    o.Set("reason", rt.loadError);
    return o;
  }
  size_t freeB = 0, totalB = 0;
  int code = rt.memGetInfo(&freeB, &totalB);
  o.Set("ok", code == 0);
  if (code != 0) {
    o.Set("reason", rt.errStr(code));
    return o;
  }
  o.Set("free", Napi::Number::New(env, static_cast<double>(freeB)));
  o.Set("total", Napi::Number::New(env, static_cast<double>(totalB)));
  return o;
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  ortEnv();
  DeviceTensor::Init(env, exports);
  Session::Init(env, exports);
  exports.Set("version", Napi::Function::New(env, Version));
  exports.Set("providers", Napi::Function::New(env, Providers));
  exports.Set("cudaInfo", Napi::Function::New(env, CudaInfo));
  return exports;
}

}  // namespace

NODE_API_MODULE(vantage_ort, Init)
