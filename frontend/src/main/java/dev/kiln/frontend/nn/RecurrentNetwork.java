package dev.kiln.frontend.nn;

import dev.kiln.frontend.F;
import dev.kiln.frontend.Tensor;

import java.util.ArrayList;
import java.util.List;

/**
 * Shared machinery of multi-layer recurrent networks as PyTorch lays them out: per layer
 * {@code weight_ih_l<k>} [G·H, in], {@code weight_hh_l<k>} [G·H, H] and their biases, all uniform in
 * ±1/sqrt(H); input {@code [T, N, in]} ({@code [N, T, in]} with {@code batchFirst}); dropout between
 * layers in training. The input projection runs for all time steps at once; the cell runs per step.
 */
public abstract class RecurrentNetwork extends Module {

    /** The output sequence and the final hidden state of every layer ({@code cell} for LSTMs only). */
    public record Output(Tensor output, Tensor hidden, Tensor cell) {}

    protected final int inputSize;
    protected final int hiddenSize;
    protected final int layers;
    private final boolean batchFirst;
    private final double dropout;
    private final List<Parameter[]> weights = new ArrayList<>();

    protected RecurrentNetwork(int gates, int inputSize, int hiddenSize, int layers, boolean bias, boolean batchFirst, double dropout) {
        if (inputSize < 1 || hiddenSize < 1 || layers < 1) {
            throw new IllegalArgumentException(getClass().getSimpleName() + ": input_size, hidden_size and num_layers must be >= 1");
        }
        if (dropout < 0 || dropout > 1) throw new IllegalArgumentException(getClass().getSimpleName() + ": dropout must be in [0, 1], got " + dropout);
        this.inputSize = inputSize;
        this.hiddenSize = hiddenSize;
        this.layers = layers;
        this.batchFirst = batchFirst;
        this.dropout = dropout;
        double bound = 1 / Math.sqrt(hiddenSize);
        for (int k = 0; k < layers; k++) {
            long in = k == 0 ? inputSize : hiddenSize;
            Parameter wIh = registerParameter("weight_ih_l" + k, uniform(bound, (long) gates * hiddenSize, in));
            Parameter wHh = registerParameter("weight_hh_l" + k, uniform(bound, (long) gates * hiddenSize, hiddenSize));
            Parameter bIh = bias ? registerParameter("bias_ih_l" + k, uniform(bound, (long) gates * hiddenSize)) : null;
            Parameter bHh = bias ? registerParameter("bias_hh_l" + k, uniform(bound, (long) gates * hiddenSize)) : null;
            weights.add(new Parameter[] {wIh, wHh, bIh, bHh});
        }
    }

    /** One time step of layer {@code k}: {@code projectedInput} is x·W_ih^T + b_ih for this step. */
    protected abstract Tensor[] step(Tensor projectedInput, Tensor h, Tensor c, Parameter wHh, Parameter bHh);

    protected abstract boolean hasCellState();

    /** The output sequence only. */
    @Override
    public Tensor forward(Tensor input) { return run(input, null, null).output(); }

    /** Output, final hidden state (and final cell state for LSTMs), as a list of tensors. */
    @Override
    public Object call(Tensor... inputs) {
        Output out = run(inputs[0], inputs.length > 1 ? inputs[1] : null, inputs.length > 2 ? inputs[2] : null);
        return out.cell() == null ? List.of(out.output(), out.hidden()) : List.of(out.output(), out.hidden(), out.cell());
    }

    /** Runs the network; {@code h0}/{@code c0} ({@code [layers, N, H]}) may be null for zeros. */
    public Output run(Tensor input, Tensor h0, Tensor c0) {
        if (input.rank() != 3 || input.dim(2) != inputSize) {
            throw new IllegalArgumentException(getClass().getSimpleName() + ": input must be 3-D with " + inputSize
                    + " features, got " + java.util.Arrays.toString(input.shape()));
        }
        Tensor x = batchFirst ? input.transpose(0, 1) : input;
        long steps = x.dim(0), batch = x.dim(1);
        checkState(h0, batch, "h0");
        checkState(c0, batch, "c0");
        List<Tensor> finalH = new ArrayList<>(), finalC = new ArrayList<>();
        for (int k = 0; k < layers; k++) {
            Parameter[] w = weights.get(k);
            Tensor projected = F.linear(x, w[0], w[2]);
            Tensor h = h0 != null ? h0.select(0, k) : Tensor.zeros(x.dtype(), batch, hiddenSize);
            Tensor c = hasCellState() ? (c0 != null ? c0.select(0, k) : Tensor.zeros(x.dtype(), batch, hiddenSize)) : null;
            List<Tensor> outputs = new ArrayList<>();
            for (long t = 0; t < steps; t++) {
                Tensor[] hc = step(projected.select(0, t), h, c, w[1], w[3]);
                h = hc[0];
                c = hc[1];
                outputs.add(h);
            }
            finalH.add(h);
            if (c != null) finalC.add(c);
            x = Tensor.stack(outputs, 0);
            if (k < layers - 1) x = F.dropout(x, dropout, isTraining());
        }
        Tensor output = batchFirst ? x.transpose(0, 1) : x;
        return new Output(output, Tensor.stack(finalH, 0), hasCellState() ? Tensor.stack(finalC, 0) : null);
    }

    private void checkState(Tensor state, long batch, String name) {
        if (state != null && (state.rank() != 3 || state.dim(0) != layers || state.dim(1) != batch || state.dim(2) != hiddenSize)) {
            throw new IllegalArgumentException(getClass().getSimpleName() + ": " + name + " must be [" + layers + ", " + batch + ", "
                    + hiddenSize + "], got " + java.util.Arrays.toString(state.shape()));
        }
    }

    private static Parameter uniform(double bound, long... shape) {
        Parameter p = new Parameter(Tensor.zeros(shape));
        Init.uniform(p, -bound, bound);
        return p;
    }

    @Override
    protected String extraRepr() { return inputSize + ", " + hiddenSize + ", num_layers=" + layers + (batchFirst ? ", batch_first=true" : ""); }
}
