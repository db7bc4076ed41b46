package dev.kiln.ir;

import java.util.List;

/**
 * A test-only op with string, dtype, float-list and ambiguous-list attributes, which no built-in op
 * has, so the printer and parser can be tested on those kinds. Registered once per JVM.
 */
final class TestOps {

    static final String NOTE = "test.note";

    private TestOps() {}

    static synchronized void register() {
        if (OpRegistry.contains(NOTE)) return;
        OpRegistry.register(OpSchema.define(NOTE).summary("identity with descriptive attributes")
                .tensor("x")
                .attr("label", AttrKind.STRING)
                .attr("dtype", AttrKind.DTYPE, Attribute.of(DType.F32))
                .attr("scales", AttrKind.FLOATS, Attribute.floats())
                .attrOneOf("either", AttrKind.INTS, AttrKind.FLOATS)
                .traits(Trait.PURE)
                .infer(ctx -> List.of(ctx.tensor(0)))
                .build());
    }
}
