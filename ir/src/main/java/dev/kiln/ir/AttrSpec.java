package dev.kiln.ir;

import java.util.Set;

/**
 * One declared attribute of an op: its name, the kinds it accepts (usually one), and its default
 * (null when it is required).
 */
public record AttrSpec(String name, Set<AttrKind> kinds, Attribute defaultValue) {

    public AttrSpec {
        kinds = Set.copyOf(kinds);
    }

    public boolean required() { return defaultValue == null; }

    public boolean accepts(Attribute a) { return kinds.contains(a.kind()); }
}
