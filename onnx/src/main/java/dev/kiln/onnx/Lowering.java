package dev.kiln.onnx;

import dev.kiln.ir.Op;

/** Writes the ONNX nodes for one Kiln op; one per entry of {@link OnnxOpTable}. */
@FunctionalInterface
interface Lowering {

    /** Emits nodes computing {@code op}'s results, naming them with {@link Emitter#define}. */
    void lower(Op op, Emitter e);
}
