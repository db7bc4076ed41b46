package dev.kiln.frontend.data;

import dev.kiln.ir.KilnException;

/**
 * Loading a batch failed: the dataset, a transform or the collation threw. Raised on the thread that iterates
 * the {@link DataLoader} (even when the batch was built on the prefetch thread), with the original exception as
 * its cause and the batch and sample indices in its message.
 */
public final class DataLoaderException extends KilnException {
    public DataLoaderException(String message, Throwable cause) { super(message, cause); }
}
