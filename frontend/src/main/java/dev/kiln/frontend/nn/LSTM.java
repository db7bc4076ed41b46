package dev.kiln.frontend.nn;

import dev.kiln.frontend.F;
import dev.kiln.frontend.Tensor;

import java.util.List;

/** Long short-term memory, gates in PyTorch's order (input, forget, cell, output). */
public final class LSTM extends RecurrentNetwork {

    public LSTM(int inputSize, int hiddenSize) { this(inputSize, hiddenSize, 1, true, false, 0); }

    public LSTM(int inputSize, int hiddenSize, int layers, boolean bias, boolean batchFirst, double dropout) {
        super(4, inputSize, hiddenSize, layers, bias, batchFirst, dropout);
    }

    @Override
    protected Tensor[] step(Tensor projectedInput, Tensor h, Tensor c, Parameter wHh, Parameter bHh) {
        List<Tensor> gates = projectedInput.add(F.linear(h, wHh, bHh)).chunk(4, -1);
        Tensor i = gates.get(0).sigmoid(), f = gates.get(1).sigmoid(), g = gates.get(2).tanh(), o = gates.get(3).sigmoid();
        Tensor cNext = f.mul(c).add(i.mul(g));
        return new Tensor[] {o.mul(cNext.tanh()), cNext};
    }

    @Override
    protected boolean hasCellState() { return true; }
}
