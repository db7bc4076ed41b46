package dev.kiln.runtime.io;

import dev.kiln.ir.KilnException;

import java.util.Objects;

/**
 * A file write that {@link SafeFiles} refused before anything was written under the target's name: the
 * target or its directory is a symbolic link, the target is not a regular file, it exists and may not be
 * replaced, or the directory does not exist. Writers wrap it in their own exception type where they have
 * one, adding advice from {@link #reason()}.
 */
public class WriteTargetException extends KilnException {

    /** Why the write was refused. */
    public enum Reason {
        /** The target file is a symbolic link (never written through nor replaced). */
        TARGET_IS_LINK,
        /** The target exists and is not a regular file (a directory, a device, a socket, ...). */
        TARGET_NOT_REGULAR,
        /** The target exists and the caller did not allow replacing it. */
        TARGET_EXISTS,
        /** The target's directory is a symbolic link, or was swapped while being opened. */
        DIRECTORY_IS_LINK,
        /** The target's directory does not exist or is not a directory. */
        NO_DIRECTORY
    }

    private final Reason reason;

    public WriteTargetException(Reason reason, String message) {
        super(message);
        this.reason = Objects.requireNonNull(reason, "reason");
    }

    /** Why the write was refused. */
    public Reason reason() { return reason; }
}
