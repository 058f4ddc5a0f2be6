#!/usr/bin/python3
"""Writes graphs/*.onnx, the tiny graphs gpuBench.ts measures the device limits with (committed, < 1 KB each).

Every tensor is made on the device inside the graph (ConstantOfShape from a shape *input*, so nothing is
constant-folded) and reduced to a scalar, so the stock onnxruntime-node binding — which copies every input and
output through host memory — moves only a few bytes across PCIe per run:
  bandwidth_{fp16,fp32}: ConstantOfShape([n]) -> ReduceSum -> scalar: writes n elements, reads them back
                         (2 x n x bytes of device traffic, the same as a device-to-device copy of n elements);
  matmul_{fp16,fp32}:    ConstantOfShape([n,n]) twice -> MatMul -> ReduceSum: 2 n^3 flops (+ 4 n^2 traffic).
"""
import os

import numpy as np
import onnx
from onnx import TensorProto, helper

HERE = os.path.dirname(os.path.abspath(__file__))


def model(nodes, inputs, out_type):
    g = helper.make_graph(nodes, "limit", inputs, [helper.make_tensor_value_info("y", out_type, [])])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)], producer_name="vantage-bench")
    m.ir_version = 8
    return m


def main():
    os.makedirs(os.path.join(HERE, "graphs"), exist_ok=True)
    for name, dt, np_dt in (("fp16", TensorProto.FLOAT16, np.float16), ("fp32", TensorProto.FLOAT, np.float32)):
        one = helper.make_tensor("one", dt, [1], np.array([1], np_dt).tobytes(), raw=True)
        shape = [helper.make_tensor_value_info("shape", TensorProto.INT64, [1])]
        bw = model([helper.make_node("ConstantOfShape", ["shape"], ["x"], value=one),
                    helper.make_node("ReduceSum", ["x"], ["y"], keepdims=0)], shape, dt)
        onnx.save(bw, os.path.join(HERE, "graphs", f"bandwidth_{name}.onnx"))
        shape2 = [helper.make_tensor_value_info("shape", TensorProto.INT64, [2])]
        mm = model([helper.make_node("ConstantOfShape", ["shape"], ["a"], value=one),
                    helper.make_node("ConstantOfShape", ["shape"], ["b"], value=one),
                    helper.make_node("MatMul", ["a", "b"], ["c"]),
                    helper.make_node("ReduceSum", ["c"], ["y"], keepdims=0)], shape2, dt)
        onnx.save(mm, os.path.join(HERE, "graphs", f"matmul_{name}.onnx"))


if __name__ == "__main__":
    main()
