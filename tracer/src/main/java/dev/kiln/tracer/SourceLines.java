package dev.kiln.tracer;

import dev.kiln.frontend.Tensor;

/** Finds the user's source line on the current stack, for error messages. */
final class SourceLines {

    private SourceLines() {}

    /** {@code Class.method (File.java:line)} of the frame that called into {@link Tensor}. */
    static String callerOfTensor() {
        return StackWalker.getInstance().walk(frames -> frames
                .dropWhile(f -> !isTensor(f))
                .dropWhile(SourceLines::isTensor)
                .findFirst()
                .map(f -> f.getClassName() + "." + f.getMethodName() + " (" + f.getFileName() + ":" + f.getLineNumber() + ")")
                .orElse("code outside the traced module"));
    }

    private static boolean isTensor(StackWalker.StackFrame f) {
        return f.getClassName().equals(Tensor.class.getName());
    }
}
