package dev.kiln.codegen;

import dev.kiln.ir.Graph;
import dev.kiln.ir.IrPrinter;
import dev.kiln.ir.testing.RandomGraphs;
import dev.kiln.passes.GraphTesting;
import dev.kiln.runtime.Interpreter;
import dev.kiln.runtime.NDArray;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;
import java.util.Random;

class DebugTest {
    @Test
    void debug() {
        List<Integer> tape = java.util.Arrays.stream(System.getProperty("tape", "0").split(",")).map(String::trim).map(Integer::valueOf).toList();
        Graph g = RandomGraphs.fromTape(tape);
        System.out.println(IrPrinter.print(g));
        Random random = new Random(tape.hashCode());
        Map<String, NDArray> weights = GraphTesting.randomWeights(g, 2, random);
        CompiledModel model = CompiledModel.compile(g, weights);
        List<Object> inputs = GraphTesting.randomInputs(g, 2, random);
        List<NDArray> out = model.run(inputs.stream().map(o -> (NDArray) o).toList());
        System.out.println(IrPrinter.print(model.optimizedGraph()));
        System.out.println(model.explain());
        System.out.println(model.lowered(inputs.stream().map(o -> (NDArray) o).toList()) instanceof Program p ? String.join("\n", p.listing()) : "");
        System.out.println("compiled " + out);
        System.out.println("interp   " + Interpreter.run(g, inputs, weights));
    }
}
