package dev.kiln.ir.testing;

import java.util.List;

/**
 * A tape of random choices that a generator consumes. jqwik shrinks the tape (shorter, smaller
 * numbers), which shrinks the generated graph; an exhausted tape answers 0, the simplest choice.
 */
final class Choices {

    private final List<Integer> tape;
    private int pos;

    Choices(List<Integer> tape) { this.tape = tape; }

    /** A choice in {@code [0, bound)}. */
    int next(int bound) {
        if (bound <= 1 || pos >= tape.size()) {
            if (pos < tape.size() && bound <= 1) pos++;
            return 0;
        }
        return Math.floorMod(tape.get(pos++), bound);
    }

    /** Whether every choice has been used; generators stop adding ops then. */
    boolean exhausted() { return pos >= tape.size(); }

    /** A choice in {@code [lo, hi]}. */
    int between(int lo, int hi) { return lo + next(hi - lo + 1); }

    /** True with probability about {@code percent}/100; false once the tape runs out. */
    boolean chance(int percent) { return next(100) >= 100 - percent; }

    <T> T pick(List<T> items) { return items.get(next(items.size())); }
}
