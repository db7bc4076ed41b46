package dev.kiln.ir;

import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;

/**
 * The one declaration of an op: name, operands, attributes with kinds and defaults, traits, regions
 * and type inference. The builder, verifier, printer, parser, interpreter and exporters all read it.
 */
public record OpSchema(
        String name,
        String summary,
        List<OperandSpec> operands,
        List<AttrSpec> attributes,
        Set<Trait> traits,
        int regionCount,
        TypeInference inference) {

    public OpSchema {
        operands = List.copyOf(operands);
        attributes = List.copyOf(attributes);
        traits = traits.isEmpty() ? EnumSet.noneOf(Trait.class) : EnumSet.copyOf(traits);
    }

    public boolean has(Trait trait) { return traits.contains(trait); }

    public AttrSpec attribute(String attrName) {
        for (AttrSpec a : attributes) if (a.name().equals(attrName)) return a;
        return null;
    }

    /** The declared default of an attribute, or null if the attribute is required or unknown. */
    public Attribute defaultAttribute(String attrName) {
        AttrSpec a = attribute(attrName);
        return a == null ? null : a.defaultValue();
    }

    /** Fewest operands the op accepts. */
    public int minOperands() {
        int n = 0;
        for (OperandSpec o : operands) if (o.arity() == OperandSpec.Arity.ONE) n++;   // no stream: called per op
        return n;
    }

    /** Most operands the op accepts, or {@code Integer.MAX_VALUE} when the last is variadic. */
    public int maxOperands() {
        for (OperandSpec o : operands) if (o.arity() == OperandSpec.Arity.VARIADIC) return Integer.MAX_VALUE;
        return operands.size();
    }

    /** The spec that operand position {@code i} falls under (a variadic spec covers the tail). */
    public OperandSpec operandSpec(int i) {
        return i < operands.size() ? operands.get(i) : operands.get(operands.size() - 1);
    }

    /** Checks operand count and kinds against the declaration; the message names the op. */
    public void checkOperands(List<? extends Type> types) {
        int n = types.size();
        if (n < minOperands() || n > maxOperands()) {
            String expected = maxOperands() == Integer.MAX_VALUE ? "at least " + minOperands()
                    : minOperands() == maxOperands() ? Integer.toString(minOperands())
                    : minOperands() + " to " + maxOperands();
            throw new IrException(name + ": expected " + expected + " operands, got " + n);
        }
        for (int i = 0; i < n; i++) {
            OperandSpec spec = operandSpec(i);
            if (!spec.kind().accepts(types.get(i))) {
                throw new IrException(name + ": operand " + i + " ('" + spec.name() + "') must be "
                        + spec.kind().name().toLowerCase(java.util.Locale.ROOT) + ", got " + types.get(i));
            }
        }
    }

    /** Checks attribute names, kinds and required attributes; the message names the op and attribute. */
    public void checkAttributes(java.util.Map<String, Attribute> attrs) {
        for (var e : attrs.entrySet()) {
            AttrSpec spec = attribute(e.getKey());
            if (spec == null) {
                throw new IrException(name + ": unknown attribute '" + e.getKey() + "'; known: "
                        + attributes.stream().map(AttrSpec::name).toList());
            }
            if (!spec.accepts(e.getValue())) {
                throw new IrException(name + ": attribute '" + e.getKey() + "' must be "
                        + spec.kinds().stream().map(k -> k.name().toLowerCase(java.util.Locale.ROOT)).sorted().toList()
                        + ", got " + e.getValue().kind().name().toLowerCase(java.util.Locale.ROOT));
            }
        }
        for (AttrSpec spec : attributes) {
            if (spec.required() && !attrs.containsKey(spec.name())) {
                throw new IrException(name + ": missing required attribute '" + spec.name() + "'");
            }
        }
    }

    public static Builder define(String name) { return new Builder(name); }

    /** Fluent declaration used by the op tables. */
    public static final class Builder {
        private final String name;
        private String summary = "";
        private final List<OperandSpec> operands = new ArrayList<>();
        private final List<AttrSpec> attributes = new ArrayList<>();
        private final EnumSet<Trait> traits = EnumSet.noneOf(Trait.class);
        private int regions;
        private TypeInference inference;

        private Builder(String name) { this.name = name; }

        public Builder summary(String text) { this.summary = text; return this; }

        public Builder tensor(String operand) { return operand(operand, OperandSpec.Kind.TENSOR, OperandSpec.Arity.ONE); }

        public Builder optionalTensor(String operand) { return operand(operand, OperandSpec.Kind.TENSOR, OperandSpec.Arity.OPTIONAL); }

        public Builder scalar(String operand) { return operand(operand, OperandSpec.Kind.SCALAR, OperandSpec.Arity.ONE); }

        public Builder variadic(String operand) { return operand(operand, OperandSpec.Kind.ANY, OperandSpec.Arity.VARIADIC); }

        public Builder operand(String operand, OperandSpec.Kind kind, OperandSpec.Arity arity) {
            operands.add(new OperandSpec(operand, kind, arity));
            return this;
        }

        public Builder attr(String attr, AttrKind kind) { attributes.add(new AttrSpec(attr, Set.of(kind), null)); return this; }

        public Builder attr(String attr, AttrKind kind, Attribute dflt) { attributes.add(new AttrSpec(attr, Set.of(kind), dflt)); return this; }

        /** A required attribute that accepts any of {@code kinds}. */
        public Builder attrOneOf(String attr, AttrKind... kinds) { attributes.add(new AttrSpec(attr, Set.of(kinds), null)); return this; }

        public Builder traits(Trait... ts) { traits.addAll(List.of(ts)); return this; }

        public Builder regions(int count) {
            this.regions = count;
            if (count > 0) traits.add(Trait.HAS_REGIONS);
            return this;
        }

        public Builder infer(TypeInference rule) { this.inference = rule; return this; }

        public OpSchema build() {
            if (inference == null) throw new IllegalStateException("op " + name + " declares no type inference");
            TypeInference rule = traits.contains(Trait.ACCEPTS_STORAGE_DTYPES) ? inference : rejectingStorageDTypes(inference);
            return new OpSchema(name, summary, operands, attributes, traits, regions, rule);
        }

        /** {@code rule}, after checking that no tensor operand has a storage-only dtype (arithmetic needs a cast first). */
        private static TypeInference rejectingStorageDTypes(TypeInference rule) {
            return ctx -> {
                for (Type t : ctx.operandTypes()) {
                    if (t instanceof TensorType tt && tt.dtype().isStorageOnly()) {
                        throw ctx.error("does not accept " + tt.dtype() + " tensors (" + tt.dtype()
                                + " is a storage-only dtype); cast to f32 first");
                    }
                }
                return rule.infer(ctx);
            };
        }
    }
}
