package dev.kiln.runtime;

import dev.kiln.ir.KilnException;
import dev.kiln.ir.Attribute;
import dev.kiln.ir.DType;
import dev.kiln.ir.IrException;
import dev.kiln.ir.OpSchema;

import java.util.Map;

/** An op's attributes as a kernel reads them: explicit values first, then the schema's defaults. */
public record OpAttributes(OpSchema schema, Map<String, Attribute> values) {

    public Attribute get(String name) {
        Attribute a = values.get(name);
        if (a == null) a = schema.defaultAttribute(name);
        if (a == null) throw new KilnException(schema.name() + ": missing attribute '" + name + "'");
        return a;
    }

    public long integer(String name) { return ((Attribute.Int) get(name)).value(); }

    /** An integer attribute a kernel indexes with; a value outside the 32-bit range is an error naming it. */
    public int intValue(String name) {
        long v = integer(name);
        if (v != (int) v) throw outOfIntRange(name, v, -1);
        return (int) v;
    }

    public boolean bool(String name) { return ((Attribute.Bool) get(name)).value(); }

    public long[] longs(String name) { return ((Attribute.Ints) get(name)).values(); }

    /** An integer-list attribute a kernel indexes with; a value outside the 32-bit range is an error naming it. */
    public int[] ints(String name) {
        long[] v = longs(name);
        int[] out = new int[v.length];
        for (int i = 0; i < v.length; i++) {
            if (v[i] != (int) v[i]) throw outOfIntRange(name, v[i], i);
            out[i] = (int) v[i];
        }
        return out;
    }

    private IrException outOfIntRange(String name, long value, int index) {
        return new IrException(schema.name() + ": attribute '" + name + "'" + (index < 0 ? "" : " entry " + index) + " is " + value
                + ", outside the 32-bit range the " + schema.name() + " kernel supports");
    }

    public DType dtype(String name) { return ((Attribute.DTypeAttr) get(name)).value(); }
}
