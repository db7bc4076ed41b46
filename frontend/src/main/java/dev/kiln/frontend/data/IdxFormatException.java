package dev.kiln.frontend.data;

import dev.kiln.ir.KilnException;

/** A file that is not a valid IDX file of the expected kind (bad magic, truncated, wrong dimensions, bad gzip). */
public final class IdxFormatException extends KilnException {
    public IdxFormatException(String message) { super(message); }

    public IdxFormatException(String message, Throwable cause) { super(message, cause); }
}
