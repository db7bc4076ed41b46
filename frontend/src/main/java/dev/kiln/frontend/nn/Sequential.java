package dev.kiln.frontend.nn;

import dev.kiln.frontend.Tensor;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Runs its layers in order, each on the previous one's output. Children are named {@code 0, 1, ...}. */
public final class Sequential extends Module {

    private final List<Module> layers;

    public Sequential(Module... layers) { this.layers = List.of(layers); }

    @Override
    public Tensor forward(Tensor input) {
        Tensor x = input;
        for (Module layer : layers) x = layer.forward(x);
        return x;
    }

    @Override
    public Map<String, Module> namedChildren() {
        Map<String, Module> out = new LinkedHashMap<>();
        for (int i = 0; i < layers.size(); i++) out.put(Integer.toString(i), layers.get(i));
        return out;
    }

    public Module get(int index) { return layers.get(index); }

    public int size() { return layers.size(); }
}
