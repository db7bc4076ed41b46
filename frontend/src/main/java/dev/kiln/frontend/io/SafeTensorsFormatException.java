package dev.kiln.frontend.io;

import dev.kiln.ir.KilnException;

/**
 * A file that is not valid safetensors: truncated, a bad header length, malformed JSON, an unknown dtype, data
 * offsets that do not fit the shapes or the file. The message names the file and the tensor key or problem.
 */
public final class SafeTensorsFormatException extends KilnException {
    public SafeTensorsFormatException(String message) { super(message); }

    public SafeTensorsFormatException(String message, Throwable cause) { super(message, cause); }
}
