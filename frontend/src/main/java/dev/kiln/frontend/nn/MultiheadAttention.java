package dev.kiln.frontend.nn;

import dev.kiln.frontend.F;
import dev.kiln.frontend.Tensor;
import dev.kiln.ir.DType;

/**
 * Multi-head attention as {@code torch.nn.MultiheadAttention}: packed input projection
 * ({@code in_proj_weight} [3E, E], Xavier-uniform; {@code in_proj_bias} zero), scaled dot-product
 * attention per head, and an output projection ({@code out_proj}, bias zero). Inputs are
 * {@code [L, N, E]}, or {@code [N, L, E]} with {@code batchFirst}.
 */
public final class MultiheadAttention extends Module {

    private final int embedDim;
    private final int heads;
    private final double dropout;
    private final boolean batchFirst;
    private final Parameter inProjWeight;
    private final Parameter inProjBias;
    private final Linear outProj;

    public MultiheadAttention(int embedDim, int heads) { this(embedDim, heads, 0, true, false); }

    public MultiheadAttention(int embedDim, int heads, double dropout, boolean bias, boolean batchFirst) {
        if (heads < 1 || embedDim % heads != 0) {
            throw new IllegalArgumentException("MultiheadAttention: embed_dim " + embedDim + " must be divisible by num_heads " + heads);
        }
        this.embedDim = embedDim;
        this.heads = heads;
        this.dropout = dropout;
        this.batchFirst = batchFirst;
        this.inProjWeight = registerParameter("in_proj_weight", new Parameter(Tensor.zeros(3L * embedDim, embedDim)));
        Init.xavierUniform(inProjWeight, 1.0);
        this.inProjBias = bias ? registerParameter("in_proj_bias", new Parameter(Tensor.zeros(3L * embedDim))) : null;
        this.outProj = registerModule("out_proj", new Linear(embedDim, embedDim, bias));
        if (bias) Init.zeros(outProj.bias());
    }

    /** Self-attention: query, key and value are all {@code x}. */
    @Override
    public Tensor forward(Tensor x) { return attend(x, x, x, null, null, false); }

    /** Takes query, key and value. */
    @Override
    public Object call(Tensor... inputs) {
        if (inputs.length != 3) throw new IllegalArgumentException("MultiheadAttention takes query, key and value, got " + inputs.length + " inputs");
        return attend(inputs[0], inputs[1], inputs[2], null, null, false);
    }

    /**
     * Attention of {@code query} over {@code key}/{@code value}. {@code keyPaddingMask} ({@code [N, S]}
     * bool, true = ignore that key) and {@code attnMask} ({@code [L, S]} bool, true = may attend; or
     * float, added to the scores) may be null; {@code causal} hides later positions.
     */
    public Tensor attend(Tensor query, Tensor key, Tensor value, Tensor keyPaddingMask, Tensor attnMask, boolean causal) {
        Tensor q = batchFirst ? query : query.transpose(0, 1);
        Tensor k = batchFirst ? key : key.transpose(0, 1);
        Tensor v = batchFirst ? value : value.transpose(0, 1);
        if (q.rank() != 3 || q.dim(2) != embedDim) {
            throw new IllegalArgumentException("MultiheadAttention(" + embedDim + "): query must be 3-D with embedding " + embedDim
                    + ", got " + java.util.Arrays.toString(query.shape()));
        }
        long l = q.dim(1), s = k.dim(1), d = embedDim / heads;
        Tensor qh = heads(project(q, 0), l, d), kh = heads(project(k, 1), s, d), vh = heads(project(v, 2), s, d);
        Tensor mask = attnMask;
        if (keyPaddingMask != null) {
            Tensor keep = keyPaddingMask.to(DType.BOOL).logicalNot().reshape(-1, 1, 1, s);
            mask = mask == null ? keep : mask.dtype() == DType.BOOL ? keep.logicalAnd(mask)
                    : Tensor.where(keep, mask, Tensor.scalar(mask.dtype(), Double.NEGATIVE_INFINITY));
        }
        Tensor out = F.scaledDotProductAttention(qh, kh, vh, mask, causal, dropout, isTraining());
        // -1 for the batch dim keeps it symbolic when traced with a dynamic batch.
        out = outProj.forward(out.transpose(1, 2).reshape(-1, l, embedDim));
        return batchFirst ? out : out.transpose(0, 1);
    }

    private Tensor project(Tensor x, int which) {
        Tensor w = inProjWeight.narrow(0, (long) which * embedDim, embedDim);
        Tensor b = inProjBias == null ? null : inProjBias.narrow(0, (long) which * embedDim, embedDim);
        return F.linear(x, w, b);
    }

    private Tensor heads(Tensor x, long len, long d) { return x.reshape(-1, len, heads, d).transpose(1, 2); }

    @Override
    protected String extraRepr() { return "embed_dim=" + embedDim + ", num_heads=" + heads; }
}
