package dev.kiln.frontend;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Marks a method whose bytecode the tracer's capture ({@code dev.kiln.tracer.capture.Capture})
 * turns into IR, control flow included: data-dependent branches become {@code if} ops instead of
 * being baked in the way a trace would bake them.
 */
@Documented
@Retention(RetentionPolicy.RUNTIME)
@Target(ElementType.METHOD)
public @interface Compile {}
