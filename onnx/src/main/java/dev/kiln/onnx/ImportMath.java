package dev.kiln.onnx;

import dev.kiln.ir.Builder;
import dev.kiln.ir.DType;
import dev.kiln.ir.Dim;
import dev.kiln.ir.TensorType;
import dev.kiln.ir.Value;
import dev.kiln.onnx.ImportConverters.Converter;

import java.util.List;
import java.util.Map;

import static dev.kiln.onnx.ImportConverters.one;

/** Elementwise ONNX ops: arithmetic, comparisons, logic, unary math, activations, Cast and Clip. */
final class ImportMath {

    private ImportMath() {}

    static void register(Map<String, Converter> t) {
        for (var e : Map.of("Add", "add", "Sub", "sub", "Mul", "mul", "Div", "div").entrySet()) {
            t.put(e.getKey(), one(n -> {
                if (n.opset < 7 && n.hasAttr("axis")) throw n.unsupported("legacy broadcasting along 'axis'");
                return n.op(e.getValue(), n.in(0), n.in(1));
            }));
        }
        for (var e : Map.of("Equal", "eq", "Less", "lt", "Greater", "gt", "LessOrEqual", "le", "GreaterOrEqual", "ge").entrySet()) {
            t.put(e.getKey(), one(n -> n.op(e.getValue(), n.in(0), n.in(1))));
        }
        t.put("And", one(n -> n.op("logical_and", n.in(0), n.in(1))));
        t.put("Or", one(n -> n.op("logical_or", n.in(0), n.in(1))));
        t.put("Xor", one(n -> n.op("ne", n.in(0), n.in(1))));
        t.put("Not", one(n -> n.op("logical_not", n.in(0))));
        t.put("Where", one(n -> n.op("where", n.in(0), n.in(1), n.in(2))));
        t.put("Pow", one(ImportMath::pow));
        t.put("Max", one(n -> fold(n, "maximum")));
        t.put("Min", one(n -> fold(n, "minimum")));
        t.put("Sum", one(n -> fold(n, "add")));
        t.put("Mean", one(n -> {
            Value sum = fold(n, "add");
            return n.op("div", sum, n.scalar(n.type(sum).dtype(), n.inputCount()));
        }));
        Map<String, String> unary = Map.ofEntries(Map.entry("Relu", "relu"), Map.entry("Sigmoid", "sigmoid"),
                Map.entry("Tanh", "tanh"), Map.entry("Exp", "exp"), Map.entry("Log", "log"), Map.entry("Sqrt", "sqrt"),
                Map.entry("Erf", "erf"), Map.entry("Abs", "abs"), Map.entry("Neg", "neg"), Map.entry("Floor", "floor"),
                Map.entry("Ceil", "ceil"), Map.entry("Reciprocal", "reciprocal"), Map.entry("Sin", "sin"),
                Map.entry("Cos", "cos"), Map.entry("Sign", "sign"), Map.entry("Round", "round"));
        unary.forEach((onnx, kiln) -> t.put(onnx, one(n -> n.op(kiln, n.in(0)))));
        t.put("Identity", one(n -> n.in(0)));
        t.put("Softplus", one(n -> {
            // log(1 + e^x) with no linear cutoff: a threshold beyond which exp overflows keeps it exact
            return n.op("softplus", Builder.attrs("beta", 1.0, "threshold", 80.0), n.in(0));
        }));
        t.put("Softsign", one(n -> {
            Value x = n.in(0);
            return n.op("div", x, n.op("add", n.op("abs", x), n.scalar(n.type(x).dtype(), 1)));
        }));
        t.put("LeakyRelu", one(n -> n.op("leaky_relu", Builder.attrs("negative_slope", n.attrFloat("alpha", 0.01)), n.in(0))));
        t.put("Elu", one(n -> n.op("elu", Builder.attrs("alpha", n.attrFloat("alpha", 1.0)), n.in(0))));
        t.put("Selu", one(n -> {
            Value x = n.in(0);
            Value elu = n.op("elu", Builder.attrs("alpha", n.attrFloat("alpha", 1.67326319217681884765625)), x);
            return n.op("mul", elu, n.scalar(n.type(x).dtype(), n.attrFloat("gamma", 1.05070102214813232421875)));
        }));
        t.put("HardSigmoid", one(n -> {
            Value x = n.in(0);
            DType d = n.type(x).dtype();
            Value lin = n.op("add", n.op("mul", x, n.scalar(d, n.attrFloat("alpha", 0.2))), n.scalar(d, n.attrFloat("beta", 0.5)));
            return n.op("clamp", Builder.attrs("min", 0.0, "max", 1.0), lin);
        }));
        t.put("PRelu", one(n -> {
            Value x = n.in(0), slope = n.in(1);
            TensorType st = n.type(slope), xt = n.type(x);
            if (n.opset < 7 && st.rank() == 1 && xt.rank() > 2 && st.shape().dims().get(0).equals(xt.shape().dims().get(1))) {
                // before opset 7 a 1-D slope is per channel (axis 1)
                List<Dim> dims = new java.util.ArrayList<>(List.of(st.shape().dims().get(0)));
                for (int i = 2; i < xt.rank(); i++) dims.add(Dim.of(1));
                slope = n.reshape(slope, dims);
            }
            return n.op("where", n.op("lt", x, n.scalar(n.type(x).dtype(), 0)), n.op("mul", x, slope), x);
        }));
        t.put("Gelu", one(n -> n.op("gelu", Builder.attrs("approximate", n.attrString("approximate", "none")), n.in(0))));
        t.put("Shrink", one(n -> {
            Value x = n.in(0);
            DType d = n.type(x).dtype();
            double lambd = n.attrFloat("lambd", 0.5), bias = n.attrFloat("bias", 0.0);
            Value below = n.op("lt", x, n.scalar(d, -lambd)), above = n.op("gt", x, n.scalar(d, lambd));
            Value zero = n.scalar(d, 0);
            return n.op("where", below, n.op("add", x, n.scalar(d, bias)),
                    n.op("where", above, n.op("sub", x, n.scalar(d, bias)), zero));
        }));
        t.put("Cast", one(n -> cast(n, OnnxTensors.dtype((int) n.attrInt("to", 0), n.describe() + " attribute 'to'"))));
        t.put("CastLike", one(n -> cast(n, n.type(1).dtype())));
        t.put("Clip", one(ImportMath::clip));
    }

    /** Cast/CastLike: Kiln's {@code cast} with ONNX's {@code saturate} (float8 targets) and {@code round_mode} (f8e8m0). */
    private static Value cast(ImportNode n, DType to) {
        Value x = n.in(0);
        if (n.type(x).dtype() == to) return x;
        boolean saturate = n.attrInt("saturate", 1) != 0;
        return n.op("cast", Builder.attrs("dtype", to, "saturate", saturate, "round_mode", n.attrString("round_mode", "up")), x);
    }

    /** Variadic Max/Min/Sum: the binary op folded left to right, with broadcasting. */
    private static Value fold(ImportNode n, String op) {
        Value acc = n.in(0);
        for (int i = 1; i < n.inputCount(); i++) acc = n.op(op, acc, n.in(i));
        return acc;
    }

    /** Pow: the result has the base's type; integer powers are computed in f64 and truncated back. */
    private static Value pow(ImportNode n) {
        Value base = n.in(0), exp = n.in(1);
        DType t = n.type(base).dtype();
        if (t.isFloatingPoint()) return n.op("pow", base, n.cast(exp, t));
        return n.cast(n.op("pow", n.cast(base, DType.F64), n.cast(exp, DType.F64)), t);
    }

    /** Clip: min/max as attributes (before opset 11) or optional inputs; min(max(x, lo), hi) as ONNX defines. */
    private static Value clip(ImportNode n) {
        Value x = n.in(0);
        DType d = n.type(x).dtype();
        Value lo, hi;
        if (n.opset < 11) {
            lo = n.hasAttr("min") ? n.scalar(d, n.attrFloat("min", 0)) : null;
            hi = n.hasAttr("max") ? n.scalar(d, n.attrFloat("max", 0)) : null;
        } else {
            lo = n.opt(1);
            hi = n.opt(2);
        }
        if (lo != null) x = n.op("maximum", x, lo);
        if (hi != null) x = n.op("minimum", x, hi);
        return x;
    }

}
