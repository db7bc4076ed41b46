package dev.kiln.ir;

/** A tensor type: element dtype plus shape, printed as {@code f32[N, 784]}. */
public record TensorType(DType dtype, Shape shape) implements Type {

    public static TensorType of(DType dtype, long... sizes) {
        return new TensorType(dtype, Shape.of(sizes));
    }

    public static TensorType of(DType dtype, Dim... dims) {
        return new TensorType(dtype, Shape.of(dims));
    }

    public int rank() { return shape.rank(); }

    public TensorType withShape(Shape newShape) { return new TensorType(dtype, newShape); }

    public TensorType withDType(DType newDType) { return new TensorType(newDType, shape); }

    @Override
    public String toString() { return dtype.irName() + shape; }
}
