package dev.kiln.frontend.nn;

import dev.kiln.frontend.Tensor;

/**
 * One Transformer encoder layer as {@code torch.nn.TransformerEncoderLayer}: self-attention and a
 * feed-forward block, each with dropout, a residual connection and layer norm (after the block by
 * default, before it with {@code normFirst}).
 */
public final class TransformerEncoderLayer extends Module {

    private final MultiheadAttention selfAttn;
    private final Linear linear1;
    private final Dropout dropout;
    private final Linear linear2;
    private final LayerNorm norm1;
    private final LayerNorm norm2;
    private final Dropout dropout1;
    private final Dropout dropout2;
    private final boolean gelu;
    private final boolean normFirst;

    public TransformerEncoderLayer(int dModel, int heads) { this(dModel, heads, 2048, 0.1, false, 1e-5, false, false); }

    public TransformerEncoderLayer(int dModel, int heads, int dimFeedforward, double dropoutP, boolean gelu, double layerNormEps,
                                   boolean batchFirst, boolean normFirst) {
        this.selfAttn = registerModule("self_attn", new MultiheadAttention(dModel, heads, dropoutP, true, batchFirst));
        this.linear1 = registerModule("linear1", new Linear(dModel, dimFeedforward));
        this.dropout = registerModule("dropout", new Dropout(dropoutP));
        this.linear2 = registerModule("linear2", new Linear(dimFeedforward, dModel));
        this.norm1 = registerModule("norm1", new LayerNorm(new long[] {dModel}, layerNormEps, true));
        this.norm2 = registerModule("norm2", new LayerNorm(new long[] {dModel}, layerNormEps, true));
        this.dropout1 = registerModule("dropout1", new Dropout(dropoutP));
        this.dropout2 = registerModule("dropout2", new Dropout(dropoutP));
        this.gelu = gelu;
        this.normFirst = normFirst;
    }

    @Override
    public Tensor forward(Tensor src) { return forward(src, null, null, false); }

    /** With an optional attention mask, key padding mask, and causal masking. */
    public Tensor forward(Tensor src, Tensor mask, Tensor keyPaddingMask, boolean causal) {
        Tensor x = src;
        if (normFirst) {
            x = x.add(selfAttention(norm1.forward(x), mask, keyPaddingMask, causal));
            return x.add(feedForward(norm2.forward(x)));
        }
        x = norm1.forward(x.add(selfAttention(x, mask, keyPaddingMask, causal)));
        return norm2.forward(x.add(feedForward(x)));
    }

    private Tensor selfAttention(Tensor x, Tensor mask, Tensor keyPaddingMask, boolean causal) {
        return dropout1.forward(selfAttn.attend(x, x, x, keyPaddingMask, mask, causal));
    }

    private Tensor feedForward(Tensor x) {
        Tensor h = linear1.forward(x);
        h = gelu ? h.gelu() : h.relu();
        return dropout2.forward(linear2.forward(dropout.forward(h)));
    }
}
