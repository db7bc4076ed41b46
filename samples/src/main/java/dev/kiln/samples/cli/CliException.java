package dev.kiln.samples.cli;

/** A user error on the command line (bad arguments, missing files): printed as one line, exit code 2. */
final class CliException extends dev.kiln.ir.KilnException {
    CliException(String message) { super(message); }
}
