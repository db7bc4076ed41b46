package dev.kiln.tracer;

/** Tracing cannot produce a graph that means what the Java code means; the message says why and where. */
public class TraceException extends RuntimeException {
    public TraceException(String message) { super(message); }
}
