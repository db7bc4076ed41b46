package dev.kiln.ir;

/**
 * Malformed IR text: the message starts with {@code line L, column C:} (1-based) and says what was
 * expected or what is wrong there, so a user can find and fix the spot.
 */
public final class ParseException extends IrException {

    private final int line;
    private final int column;

    public ParseException(int line, int column, String message) {
        super("line " + line + ", column " + column + ": " + message);
        this.line = line;
        this.column = column;
    }

    /** 1-based line of the problem. */
    public int line() { return line; }

    /** 1-based column of the problem. */
    public int column() { return column; }
}
