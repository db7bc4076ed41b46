package dev.kiln.frontend;

import dev.kiln.ir.DType;

/**
 * PyTorch's type promotion. Categories order bool < integer < floating. Among tensors with dims the
 * lattice decides ({@code u8+i8 -> i16}, {@code f16+bf16 -> f32}, ints with floats -> the float); a
 * 0-d tensor only decides when its category is higher than the dimensioned operands'; a Java scalar
 * only when its category is higher than every tensor's, and then gives the default dtype of its
 * category (f32 or i64). As in PyTorch, u16, u32 and u64 promote only with their own dtype or a floating-point
 * one; mixing them with any other integer or bool dtype is an error rather than a guess.
 */
public final class Promotion {

    private Promotion() {}

    /** The result dtype of an elementwise op on two tensors. */
    public static DType resultType(Tensor a, Tensor b) {
        boolean aDims = a.rank() > 0, bDims = b.rank() > 0;
        if (aDims == bDims) return promoteTypes(a.dtype(), b.dtype());
        DType dimensioned = aDims ? a.dtype() : b.dtype();
        DType zeroDim = aDims ? b.dtype() : a.dtype();
        return category(zeroDim) > category(dimensioned) ? zeroDim : dimensioned;
    }

    /** The result dtype of an op on a tensor and a Java number ({@code isFloat}: a double rather than a long). */
    public static DType resultType(Tensor a, boolean isFloat) {
        int scalarCategory = isFloat ? 2 : 1;
        if (scalarCategory <= category(a.dtype())) return a.dtype();
        return isFloat ? DType.F32 : DType.I64;
    }

    /** {@code torch.promote_types}: the smallest dtype both can be converted to without losing category. */
    public static DType promoteTypes(DType a, DType b) {
        if (a == b) return a;
        if (a.isStorageOnly() || b.isStorageOnly()) {
            DType storage = a.isStorageOnly() ? a : b;
            throw new IllegalArgumentException("no type promotion between " + a + " and " + b + ": " + storage
                    + " is a storage-only dtype; cast it explicitly, e.g. to(DType.F32)");
        }
        if (barebonesUnsigned(a) || barebonesUnsigned(b)) {
            // as torch: u16/u32/u64 promote only to floating-point dtypes
            if (a.isFloatingPoint()) return a;
            if (b.isFloatingPoint()) return b;
            throw new IllegalArgumentException("no type promotion between " + a + " and " + b
                    + ": u16, u32 and u64 promote only to floating-point dtypes (as in PyTorch); cast one operand explicitly");
        }
        if (a == DType.BOOL) return b;
        if (b == DType.BOOL) return a;
        if (a.isFloatingPoint() || b.isFloatingPoint()) {
            if (!a.isFloatingPoint()) return b;
            if (!b.isFloatingPoint()) return a;
            if (a == DType.F64 || b == DType.F64) return DType.F64;
            return DType.F32; // f16 with bf16, or either with f32
        }
        if (a == DType.U8 || b == DType.U8) {
            DType signed = a == DType.U8 ? b : a;
            return signed == DType.I8 ? DType.I16 : signed;
        }
        return a.byteSize() >= b.byteSize() ? a : b;
    }

    private static boolean barebonesUnsigned(DType t) {
        return t == DType.U16 || t == DType.U32 || t == DType.U64;
    }

    private static int category(DType t) {
        return switch (t.kind()) {
            case BOOL -> 0;
            case INT -> 1;
            case FLOAT -> 2;
        };
    }
}
