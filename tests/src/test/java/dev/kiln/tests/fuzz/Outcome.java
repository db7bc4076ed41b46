package dev.kiln.tests.fuzz;

import dev.kiln.ir.KilnException;

/** What one fuzz case did: the five outcomes the fuzz report counts. */
public enum Outcome {
    /** Imported and ran. */
    OK,
    /** Failed with a Kiln error: the clear, explained failure bad input must get. */
    KILN_ERROR,
    /** Failed with anything else (a raw JDK exception, an assertion, a stack overflow): a bug. */
    OTHER_EXCEPTION,
    /** Ran longer than the watchdog's limit: a bug. */
    HANG,
    /** Ran out of memory: a bug (sizes must be checked against budgets before allocating). */
    OOM;

    /** Whether this outcome is a bug to save and fix. */
    public boolean isBad() { return this == OTHER_EXCEPTION || this == HANG || this == OOM; }

    /** The outcome of a case that threw {@code t}. */
    public static Outcome of(Throwable t) {
        if (t instanceof OutOfMemoryError) return OOM;
        return isKilnError(t) ? KILN_ERROR : OTHER_EXCEPTION;
    }

    /** Whether {@code t} is a Kiln error: the one place that decides it, by Kiln's exception root. */
    static boolean isKilnError(Throwable t) { return t instanceof KilnException; }
}
