package dev.kiln.ir;

import java.util.List;

/** Computes an op's result types from its operand types, attributes and regions. */
@FunctionalInterface
public interface TypeInference {
    List<Type> infer(InferenceContext ctx);
}
