package dev.kiln.runtime;

import dev.kiln.ir.Attribute;
import dev.kiln.ir.DType;
import dev.kiln.ir.OpSchema;

import java.util.Map;

/** An op's attributes as a kernel reads them: explicit values first, then the schema's defaults. */
public record OpAttributes(OpSchema schema, Map<String, Attribute> values) {

    public Attribute get(String name) {
        Attribute a = values.get(name);
        if (a == null) a = schema.defaultAttribute(name);
        if (a == null) throw new IllegalArgumentException(schema.name() + ": missing attribute '" + name + "'");
        return a;
    }

    public long integer(String name) { return ((Attribute.Int) get(name)).value(); }

    public int intValue(String name) { return Math.toIntExact(integer(name)); }

    public boolean bool(String name) { return ((Attribute.Bool) get(name)).value(); }

    public long[] longs(String name) { return ((Attribute.Ints) get(name)).values(); }

    public int[] ints(String name) { return ((Attribute.Ints) get(name)).toIntArray(); }

    public DType dtype(String name) { return ((Attribute.DTypeAttr) get(name)).value(); }
}
