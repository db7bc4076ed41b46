package dev.kiln.codegen;

import dev.kiln.runtime.kernels.ConvPanels;
import dev.kiln.runtime.kernels.Depthwise;
import dev.kiln.runtime.kernels.DirectConv;
import dev.kiln.runtime.kernels.DirectGemm;
import dev.kiln.runtime.kernels.DirectPool;
import dev.kiln.runtime.kernels.PackedA;
import dev.kiln.runtime.kernels.PackedB;
import dev.kiln.runtime.kernels.Pointwise;
import dev.kiln.runtime.kernels.RowEpilogue;

import java.lang.foreign.MemorySegment;

/**
 * The kernels generated CPU code calls directly, over pre-sliced segments (element 0 of every matrix at byte 0)
 * with sizes known when the code was generated: the one place that says which runtime kernel serves each.
 */
public final class CpuKernels {
    private CpuKernels() {}

    /** Row-major f32 {@code C[m,n] = A[m,k] op(B)}; {@code op(B) = B^T} for {@code transB} (B stored [n,k]). */
    public static void sgemm(int m, int n, int k, MemorySegment a, int lda, MemorySegment b, int ldb, boolean transB,
                             MemorySegment c, int ldc) {
        DirectGemm.sgemm(m, n, k, a, lda, b, ldb, transB, c, ldc);
    }

    /**
     * {@code C[m,n] = A[m,k] B} with B packed at compile time (a constant weight), then {@code epilogue} (may be
     * null) per block of finished rows while they are in cache.
     */
    public static void sgemmPacked(int m, int n, int k, MemorySegment a, int lda, PackedB b, MemorySegment c, int ldc,
                                   RowEpilogue epilogue) {
        DirectGemm.sgemm(m, n, k, a, lda, b, c, ldc, epilogue);
    }

    /** {@link DirectConv#convPoolReluF32}: a batch of convolutions with bias, relu and 2x2 max pool in one call, images over the pool. */
    public static void convPoolReluF32(int m, MemorySegment filters, MemorySegment bias, ConvPanels.Geometry geometry, int images,
                                       MemorySegment x, long imageStride, MemorySegment out, long outStride) {
        DirectConv.convPoolReluF32(m, filters, bias, geometry, images, x, imageStride, out, outStride);
    }

    /** {@link DirectConv#im2colGemmF32}: a batch of im2col + GEMM convolutions in one call, images over the pool. */
    public static void convIm2colF32(int m, MemorySegment filters, ConvPanels.Geometry geometry, int images, MemorySegment x,
                                     long imageStride, MemorySegment out, long outStride, RowEpilogue epilogue, long epilogueRows,
                                     long epilogueImageRows) {
        DirectConv.im2colGemmF32(m, filters, geometry, images, x, imageStride, out, outStride, epilogue, epilogueRows, epilogueImageRows);
    }

    /** One group of an f32 convolution over a batch of images with packed filters, then its epilogue per block of channels. */
    public static void convPackedF32(PackedA filters, ConvPanels.Geometry geometry, int images, MemorySegment x, long imageStride,
                                     MemorySegment out, long outStride, RowEpilogue epilogue, long epilogueRows,
                                     long epilogueImageRows) {
        DirectConv.packedF32(filters, geometry, images, x, imageStride, out, outStride, epilogue, epilogueRows, epilogueImageRows);
    }

    /**
     * Copies {@code count} blocks of {@code blockBytes} from {@code src} (back to back) into {@code dst}, block
     * {@code i} at byte {@code dstOffset + i * dstStride}: one input of a {@code cat}.
     */
    public static void copyBlocks(MemorySegment src, MemorySegment dst, long count, long blockBytes, long dstStride, long dstOffset) {
        for (long i = 0; i < count; i++) MemorySegment.copy(src, i * blockBytes, dst, dstOffset + i * dstStride, blockBytes);
    }

    /** im2col of one f32 image {@code x[c,h,w]} into {@code col[c*kh*kw, oh*ow]}. */
    public static void im2colF32(MemorySegment x, int c, int h, int w, int kh, int kw, int sh, int sw, int ph, int pw,
                                 int dh, int dw, int oh, int ow, MemorySegment col) {
        DirectConv.im2colF32(x, c, h, w, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow, col);
    }

    /** f32 max pooling over {@code planes} contiguous planes. */
    public static void maxPool2dF32(MemorySegment x, int planes, int h, int w, int kh, int kw, int sh, int sw, int ph, int pw,
                                    int dh, int dw, int oh, int ow, MemorySegment out) {
        DirectPool.maxPool2dF32(x, planes, h, w, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow, out);
    }

    /** f32 average pooling over {@code planes} contiguous planes. */
    public static void avgPool2dF32(MemorySegment x, int planes, int h, int w, int kh, int kw, int sh, int sw, int ph, int pw,
                                    int oh, int ow, boolean countIncludePad, MemorySegment out) {
        DirectPool.avgPool2dF32(x, planes, h, w, kh, kw, sh, sw, ph, pw, oh, ow, countIncludePad, out);
    }

    /** f32 depthwise convolution of {@code images} images plus a per-channel bias (may be null). */
    public static void depthwiseF32(Depthwise.Geometry geometry, int images, MemorySegment x, long xImageStride,
                                    MemorySegment weight, MemorySegment bias, MemorySegment out) {
        Depthwise.f32(geometry, images, x, xImageStride, weight, bias, out);
    }

    /** f32 pointwise convolution with packed filters and its fused epilogue (bias, residual: may be null). */
    public static void pointwiseF32(Pointwise.Filters filters, int images, int n, MemorySegment x, long xImageStride,
                                    MemorySegment bias, MemorySegment residual, boolean relu, MemorySegment out) {
        Pointwise.f32(filters, images, n, x, xImageStride, bias, residual, relu, out);
    }
}
