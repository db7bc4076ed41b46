package dev.kiln.tracer.capture;

import dev.kiln.ir.KilnException;

/**
 * The bytecode capture met Java it cannot turn into IR that means the same thing. The message names
 * the class, method and source line, and the construct, for example
 * {@code LeNet.forward (LeNet.java:42): synchronized blocks are not supported in @Compile methods}.
 */
public class CaptureException extends KilnException {
    public CaptureException(String message) { super(message); }

    public CaptureException(String message, Throwable cause) { super(message, cause); }
}
