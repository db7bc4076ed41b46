package dev.kiln.ir;

/**
 * One dimension of a shape: a static size, a named symbolic size (such as a batch dim {@code N})
 * that stays unknown until run time, or an unknown size that inference could not express.
 */
public sealed interface Dim {

    /** A size known when the graph is built. */
    record Static(long size) implements Dim {
        public Static {
            if (size < 0) throw new IllegalArgumentException("dimension size must be >= 0, got " + size);
        }
        @Override public String toString() { return Long.toString(size); }
    }

    /** A size named by the user (e.g. {@code N}); equal names mean equal sizes. */
    record Symbolic(String name) implements Dim {
        public Symbolic {
            if (!name.matches("[A-Za-z_][A-Za-z0-9_]*")) {
                throw new IllegalArgumentException("symbolic dim name must be an identifier, got '" + name + "'");
            }
        }
        @Override public String toString() { return name; }
    }

    /** A size inference could not express; printed as {@code ?}. */
    record Unknown() implements Dim {
        @Override public String toString() { return "?"; }
    }

    Dim UNKNOWN = new Unknown();

    static Dim of(long size) { return new Static(size); }

    static Dim sym(String name) { return new Symbolic(name); }

    default boolean isStatic() { return this instanceof Static; }

    /** The static size; throws if this dim is not static. */
    default long size() {
        if (this instanceof Static(long s)) return s;
        throw new IllegalStateException("dimension " + this + " is not static");
    }
}
