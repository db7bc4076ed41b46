package dev.kiln.ir;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Creates ops at an insertion point, checking operands and attributes against the registry and
 * inferring result types, so that a badly built op fails where it is built, naming the op.
 */
public final class Builder {

    private final Block block;
    private int index;

    private Builder(Block block, int index) {
        this.block = block;
        this.index = index;
    }

    /** A builder appending to the end of {@code block}. */
    public static Builder atEnd(Block block) { return new Builder(block, -1); }

    /** A builder inserting just before {@code op}, in op's block. */
    public static Builder before(Op op) { return new Builder(op.parent(), op.parent().indexOf(op)); }

    public Block block() { return block; }

    /** Creates an op whose result types are inferred from its operands and attributes. */
    public Op create(String name, List<Value> operands, Map<String, Attribute> attributes) {
        OpSchema schema = OpRegistry.get(name);
        if (schema.has(Trait.HAS_REGIONS)) {
            throw new IrException(name + ": ops with regions need explicit result types; use createWithResultTypes");
        }
        check(schema, operands, attributes);
        List<Type> types = schema.inference().infer(
                new InferenceContext(schema, Value.typesOf(operands), attributes, List.of()));
        return insert(new Op(schema, operands, types, attributes, 0));
    }

    /** Creates an op with the given result types and empty regions (for {@code if} and {@code loop}). */
    public Op createWithResultTypes(String name, List<Value> operands, Map<String, Attribute> attributes, List<Type> resultTypes) {
        OpSchema schema = OpRegistry.get(name);
        check(schema, operands, attributes);
        return insert(new Op(schema, operands, resultTypes, attributes, schema.regionCount()));
    }

    /** Creates a single-result op and returns its result. */
    public Value op(String name, Map<String, Attribute> attributes, Value... operands) {
        return create(name, List.of(operands), attributes).result();
    }

    public Value op(String name, Value... operands) { return op(name, Map.of(), operands); }

    public Value constant(Attribute value) { return op("constant", Map.of("value", value)); }

    /** An {@code if} op with empty then/else regions to fill with {@link #atEnd(Block)}. */
    public Op ifOp(Value cond, List<Type> resultTypes) {
        return createWithResultTypes("if", List.of(cond), Map.of(), resultTypes);
    }

    /** A {@code loop} op whose body already has its arguments: the iteration index, then the carried values. */
    public Op loop(Value tripCount, Value cond, List<Value> initial) {
        List<Value> operands = new java.util.ArrayList<>(List.of(tripCount, cond));
        operands.addAll(initial);
        Op loop = createWithResultTypes("loop", operands, Map.of(), initial.stream().map(Value::type).toList());
        Block body = loop.region(0);
        body.addArgument(ScalarType.INT, "i");
        for (Value v : initial) body.addArgument(v.type(), null);
        return loop;
    }

    public Op yield(Value... values) { return create("yield", List.of(values), Map.of()); }

    public Op ret(Value... values) { return create("return", List.of(values), Map.of()); }

    private static void check(OpSchema schema, List<Value> operands, Map<String, Attribute> attributes) {
        schema.checkOperands(Value.typesOf(operands));
        schema.checkAttributes(attributes);
    }

    private Op insert(Op op) {
        if (index < 0) {
            block.append(op);
        } else {
            block.insert(index++, op);
        }
        return op;
    }

    /**
     * Attributes from alternating names and Java values: Long/Integer, Double/Float, Boolean, String,
     * long[]/int[], double[], DType, or an {@link Attribute}.
     */
    public static Map<String, Attribute> attrs(Object... namesAndValues) {
        if (namesAndValues.length % 2 != 0) throw new IllegalArgumentException("attrs needs name/value pairs");
        Map<String, Attribute> out = new LinkedHashMap<>();
        for (int i = 0; i < namesAndValues.length; i += 2) {
            out.put((String) namesAndValues[i], toAttribute(namesAndValues[i + 1]));
        }
        return out;
    }

    private static Attribute toAttribute(Object v) {
        return switch (v) {
            case Attribute a -> a;
            case Long l -> Attribute.of(l.longValue());
            case Integer n -> Attribute.of(n.longValue());
            case Double d -> Attribute.of(d.doubleValue());
            case java.lang.Float f -> Attribute.of(f.doubleValue());
            case Boolean b -> Attribute.of(b.booleanValue());
            case String s -> Attribute.of(s);
            case long[] a -> Attribute.ints(a);
            case int[] a -> Attribute.ints(a);
            case double[] a -> Attribute.floats(a);
            case DType d -> Attribute.of(d);
            default -> throw new IllegalArgumentException("no attribute kind for " + v.getClass().getSimpleName()
                    + " " + (v instanceof Object[] arr ? Arrays.toString(arr) : v));
        };
    }
}
