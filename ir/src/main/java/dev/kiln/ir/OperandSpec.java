package dev.kiln.ir;

/** One declared operand of an op: its name, what it may hold and how many values it takes. */
public record OperandSpec(String name, Kind kind, Arity arity) {

    /** What an operand may be. */
    public enum Kind {
        TENSOR, SCALAR, ANY;

        boolean accepts(Type t) {
            return switch (this) {
                case TENSOR -> t instanceof TensorType;
                case SCALAR -> t instanceof ScalarType;
                case ANY -> true;
            };
        }
    }

    /** How many values the operand takes: exactly one, zero or one (trailing only), or any number (last only). */
    public enum Arity { ONE, OPTIONAL, VARIADIC }
}
