package dev.kiln.samples.cli;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The arguments after the command name: positional arguments and {@code --name value} options
 * (repeatable ones are kept in order). Only the options a command declares are accepted, so a typo is
 * an error rather than silently ignored.
 */
final class CliArgs {

    private final List<String> positional = new ArrayList<>();
    private final Map<String, List<String>> options = new LinkedHashMap<>();

    private CliArgs() {}

    /** Parses {@code args}; {@code valued} are the options that take a value, {@code flags} those that do not. */
    static CliArgs parse(String command, List<String> args, Set<String> valued, Set<String> flags) {
        CliArgs parsed = new CliArgs();
        for (int i = 0; i < args.size(); i++) {
            String a = args.get(i);
            if (a.startsWith("-") && a.length() > 1) {
                String name = a.startsWith("--") ? a.substring(2) : a.substring(1);
                String inlineValue = null;
                int eq = name.indexOf('=');
                if (a.startsWith("--") && eq >= 0) {
                    inlineValue = name.substring(eq + 1);
                    name = name.substring(0, eq);
                }
                if (flags.contains(name)) {
                    if (inlineValue != null) throw new CliException(command + ": option --" + name + " takes no value");
                    parsed.options.computeIfAbsent(name, k -> new ArrayList<>()).add("true");
                } else if (valued.contains(name)) {
                    String value = inlineValue;
                    if (value == null) {
                        if (i + 1 >= args.size()) throw new CliException(command + ": option " + a + " needs a value");
                        value = args.get(++i);
                    }
                    parsed.options.computeIfAbsent(name, k -> new ArrayList<>()).add(value);
                } else {
                    throw new CliException(command + ": unknown option " + a);
                }
            } else {
                parsed.positional.add(a);
            }
        }
        return parsed;
    }

    List<String> positional() { return positional; }

    /** The one positional argument the command needs, named {@code what} in the error. */
    String single(String command, String what) {
        if (positional.size() != 1) {
            throw new CliException(command + ": expected one " + what + ", got " + (positional.isEmpty() ? "none" : positional));
        }
        return positional.getFirst();
    }

    boolean flag(String name) { return options.containsKey(name); }

    String value(String name, String fallback) {
        List<String> v = options.get(name);
        return v == null ? fallback : v.getLast();
    }

    List<String> values(String name) { return options.getOrDefault(name, List.of()); }

    int intValue(String command, String name, int fallback, int min) {
        String v = value(name, null);
        if (v == null) return fallback;
        try {
            int n = Integer.parseInt(v);
            if (n < min) throw new CliException(command + ": --" + name + " must be at least " + min + ", got " + n);
            return n;
        } catch (NumberFormatException e) {
            throw new CliException(command + ": --" + name + " needs an integer, got '" + v + "'");
        }
    }

    /** {@code key=value} pairs of a repeatable option, e.g. {@code --dim N=4}. */
    Map<String, String> pairs(String command, String name) {
        Map<String, String> out = new LinkedHashMap<>();
        for (String v : values(name)) {
            int eq = v.indexOf('=');
            if (eq <= 0 || eq == v.length() - 1) {
                throw new CliException(command + ": --" + name + " needs NAME=VALUE, got '" + v + "'");
            }
            out.put(v.substring(0, eq), v.substring(eq + 1));
        }
        return out;
    }
}
