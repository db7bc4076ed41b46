package dev.kiln.samples.cli;

import dev.kiln.onnx.ImportedModel;
import dev.kiln.onnx.netdef.NetDefExporter;
import dev.kiln.onnx.netdef.NetDefModel;
import dev.kiln.tracer.Weights;

import java.io.PrintStream;
import java.nio.file.Path;

/** {@code kiln convert --to netdef}: an imported ONNX model written as Caffe2 init and predict nets. */
final class NetDefConversion {

    private NetDefConversion() {}

    static void write(ImportedModel model, Path dir, PrintStream out) {
        NetDefModel nets = NetDefExporter.export(model.graph(), Weights.asBuffers(model.weights()));
        Path init = dir.resolve("init_net.pb"), predict = dir.resolve("predict_net.pb");
        nets.save(init, predict);
        out.printf("wrote %s (%d fill ops) and %s (%d ops)%n", init, nets.initNet().getOpCount(), predict, nets.predictNet().getOpCount());
    }
}
