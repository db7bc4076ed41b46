package dev.kiln.tracer;

import dev.kiln.ir.KilnException;

/** Tracing cannot produce a graph that means what the Java code means; the message says why and where. */
public class TraceException extends KilnException {
    public TraceException(String message) { super(message); }
}
