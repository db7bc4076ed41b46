package dev.kiln.onnx;

import java.util.Map;

import static java.util.Map.entry;

/**
 * The one table from Kiln op names to ONNX: each entry is the lowering that writes that op's nodes.
 * An op missing here (a user's custom op, say) cannot be exported.
 */
final class OnnxOpTable {

    private OnnxOpTable() {}

    private static final Map<String, Lowering> TABLE = Map.ofEntries(
            entry("add", ElementwiseLowering.arithmetic("Add")),
            entry("sub", ElementwiseLowering.arithmetic("Sub")),
            entry("mul", ElementwiseLowering.arithmetic("Mul")),
            entry("div", ElementwiseLowering.arithmetic("Div")),
            entry("neg", ElementwiseLowering::neg),
            entry("relu", ElementwiseLowering::relu),
            entry("sigmoid", ElementwiseLowering.unary("Sigmoid")),
            entry("tanh", ElementwiseLowering.unary("Tanh")),
            entry("gt", ElementwiseLowering.compare("Greater")),
            entry("lt", ElementwiseLowering.compare("Less")),
            entry("eq", ElementwiseLowering.compare("Equal")),
            entry("ge", ElementwiseLowering.compare("GreaterOrEqual")),
            entry("le", ElementwiseLowering.compare("LessOrEqual")),
            entry("ne", ElementwiseLowering::notEqual),
            entry("logical_and", ElementwiseLowering.arithmetic("And")),
            entry("logical_or", ElementwiseLowering.arithmetic("Or")),
            entry("logical_not", ElementwiseLowering.unary("Not")),
            entry("where", ElementwiseLowering::where),
            entry("abs", ElementwiseLowering.unary("Abs")),
            entry("exp", ElementwiseLowering.unary("Exp")),
            entry("log", ElementwiseLowering.unary("Log")),
            entry("sqrt", ElementwiseLowering.unary("Sqrt")),
            entry("sign", ElementwiseLowering.unary("Sign")),
            entry("sin", ElementwiseLowering.unary("Sin")),
            entry("cos", ElementwiseLowering.unary("Cos")),
            entry("erf", ElementwiseLowering.unary("Erf")),
            entry("reciprocal", ElementwiseLowering.unary("Reciprocal")),
            entry("floor", MathLowering.rounding("Floor")),
            entry("ceil", MathLowering.rounding("Ceil")),
            entry("round", MathLowering.rounding("Round")),
            entry("rsqrt", MathLowering::rsqrt),
            entry("log1p", MathLowering::log1p),
            entry("silu", MathLowering::silu),
            entry("gelu", MathLowering::gelu),
            entry("elu", MathLowering::elu),
            entry("leaky_relu", MathLowering::leakyRelu),
            entry("softplus", MathLowering::softplus),
            entry("clamp", MathLowering::clamp),
            entry("pow_scalar", MathLowering::powScalar),
            entry("pow", ElementwiseLowering.binary("Pow")),
            entry("remainder", MathLowering::remainder),
            entry("maximum", ElementwiseLowering.binary("Max")),
            entry("minimum", ElementwiseLowering.binary("Min")),
            entry("cast", ElementwiseLowering::cast),
            entry("clone", ElementwiseLowering.unary("Identity")),
            entry("matmul", NnLowering::matmul),
            entry("linear", NnLowering::linear),
            entry("conv2d", NnLowering::conv2d),
            entry("linear_act", FusionLowering::linearAct),
            entry("conv2d_act", FusionLowering::conv2dAct),
            entry("fused_elementwise", FusionLowering::fusedElementwise),
            entry("bias_gelu", FusionLowering::biasGelu),
            entry("skip_layer_norm", FusionLowering::skipLayerNorm),
            entry("attention", FusionLowering::attention),
            entry("softmax", NnLowering.softmax("Softmax")),
            entry("log_softmax", NnLowering.softmax("LogSoftmax")),
            entry("max_pool2d", PoolLowering::maxPool2d),
            entry("avg_pool2d", PoolLowering::avgPool2d),
            entry("reshape", ShapeLowering::reshape),
            entry("expand", ShapeLowering::expand),
            entry("permute", ShapeLowering::permute),
            entry("flatten", ShapeLowering::flatten),
            entry("sum", ReduceLowering.reduce("ReduceSum")),
            entry("mean", ReduceLowering.reduce("ReduceMean")),
            entry("prod", ReduceLowering.reduce("ReduceProd")),
            entry("amax", ReduceLowering.reduce("ReduceMax")),
            entry("amin", ReduceLowering.reduce("ReduceMin")),
            entry("logsumexp", ReduceLowering.reduce("ReduceLogSumExp")),
            entry("argmax", ReduceLowering.arg("ArgMax")),
            entry("argmin", ReduceLowering.arg("ArgMin")),
            entry("slice", ShapeLowering::slice),
            entry("flip", ShapeLowering::flip),
            entry("cat", ShapeLowering::cat),
            entry("pad", ShapeLowering::pad),
            entry("repeat", ShapeLowering::repeat),
            entry("tril", ShapeLowering.triangular(false)),
            entry("triu", ShapeLowering.triangular(true)),
            entry("gather", IndexLowering::gather),
            entry("index_select", IndexLowering::indexSelect),
            entry("embedding", IndexLowering::embedding),
            entry("scatter", IndexLowering.scatter(false)),
            entry("scatter_add", IndexLowering.scatter(true)),
            entry("index_add", IndexLowering::indexAdd),
            entry("slice_scatter", IndexLowering::sliceScatter),
            entry("conv_transpose2d", NnLowering::convTranspose2d),
            entry("adaptive_avg_pool2d", PoolLowering::adaptiveAvgPool2d),
            entry("batch_norm", NormLowering::batchNorm),
            entry("layer_norm", NormLowering::layerNorm),
            entry("group_norm", NormLowering::groupNorm),
            entry("constant", StructureLowering::constant),
            entry("item", StructureLowering::item),
            entry("if", StructureLowering::ifOp),
            entry("loop", StructureLowering::loop),
            entry("yield", StructureLowering::terminator),
            entry("return", StructureLowering::terminator),
            entry("scalar_add", ScalarLowering.simple("Add")),
            entry("scalar_sub", ScalarLowering.simple("Sub")),
            entry("scalar_mul", ScalarLowering.simple("Mul")),
            entry("scalar_div", ScalarLowering::div),
            entry("scalar_neg", ScalarLowering.simple("Neg")),
            entry("scalar_lt", ScalarLowering.simple("Less")),
            entry("scalar_le", ScalarLowering.simple("LessOrEqual")),
            entry("scalar_eq", ScalarLowering.simple("Equal")),
            entry("scalar_ne", ScalarLowering::notEqual),
            entry("scalar_and", ScalarLowering.simple("And")),
            entry("scalar_or", ScalarLowering.simple("Or")),
            entry("scalar_not", ScalarLowering.simple("Not")),
            entry("scalar_select", ScalarLowering.simple("Where")),
            entry("scalar_cast", ScalarLowering::cast),
            entry("tensor_from_scalar", ScalarLowering.simple("Identity")));

    private static final String BACKWARD = "training-only backward op: gradients are not part of an exported inference model";

    /**
     * The registry ops deliberately left without an ONNX mapping, each with the reason. Every other
     * op of {@link dev.kiln.ir.OpRegistry#all()} has a lowering (a test checks this), and an export
     * that meets one of these fails naming the op and its reason.
     */
    static final Map<String, String> NOT_EXPORTED = Map.ofEntries(
            entry("dropout_mask", "draws a random mask from Kiln's generator; ONNX has no op reproducing that stream, "
                    + "and an inference model has no dropout (put the module in eval mode before tracing)"),
            entry("conv2d_input_grad", BACKWARD),
            entry("conv2d_weight_grad", BACKWARD),
            entry("conv_transpose2d_input_grad", BACKWARD),
            entry("max_pool2d_grad", BACKWARD),
            entry("avg_pool2d_grad", BACKWARD),
            entry("adaptive_avg_pool2d_grad", BACKWARD),
            entry("layer_norm_grad", BACKWARD),
            entry("group_norm_grad", BACKWARD),
            entry("embedding_grad", BACKWARD));

    static boolean has(String opName) { return TABLE.containsKey(opName); }

    /** The lowering of {@code opName}; the exporter checks {@link #has} for every op first. */
    static Lowering lowering(String opName) {
        Lowering l = TABLE.get(opName);
        if (l == null) throw new OnnxExportException("op '" + opName + "' has no ONNX mapping");
        return l;
    }
}
