package dev.kiln.samples;

import dev.kiln.frontend.F;
import dev.kiln.frontend.Generator;
import dev.kiln.frontend.Tensor;
import dev.kiln.frontend.autograd.Autograd;
import dev.kiln.frontend.data.Batch;
import dev.kiln.frontend.data.Collate;
import dev.kiln.frontend.data.DataLoader;
import dev.kiln.frontend.data.Mnist;
import dev.kiln.frontend.data.TensorDataset;
import dev.kiln.frontend.nn.Module;
import dev.kiln.frontend.optim.Adam;
import dev.kiln.frontend.optim.Optimizer;
import dev.kiln.runtime.MemoryScope;
import dev.kiln.samples.models.LeNet;

import java.io.PrintStream;
import java.nio.file.Path;

/**
 * Trains LeNet-5 on the project's MNIST split (the first 8,000 test-set digits; evaluated on the last
 * 2,000) with Adam and a fixed seed, shows a progress bar with loss and images/s, and saves the
 * weights as safetensors.
 */
public final class MnistTraining {

    /** What to train: data folder, epochs, batch size, learning rate, seed, and where to save (null: don't). */
    public record Config(Path dataDir, int epochs, int batchSize, double lr, long seed, Path weightsOut, int trainLimit) {
        public static Config defaults() {
            return new Config(Path.of("../shared/data/mnist"), 8, 64, 1e-3, 42, Path.of("lenet-mnist.safetensors"), 8000);
        }
    }

    /** Final evaluation accuracy, the last epoch's mean loss, and training throughput. */
    public record Result(double accuracy, double lastLoss, double imagesPerSecond) {}

    private static final double MNIST_MEAN = 0.1307, MNIST_STD = 0.3081;

    public static void main(String[] args) throws Exception {
        Config c = Config.defaults();
        for (int i = 0; i + 1 < args.length; i += 2) {
            switch (args[i]) {
                case "--data" -> c = new Config(Path.of(args[i + 1]), c.epochs(), c.batchSize(), c.lr(), c.seed(), c.weightsOut(), c.trainLimit());
                case "--epochs" -> c = new Config(c.dataDir(), Integer.parseInt(args[i + 1]), c.batchSize(), c.lr(), c.seed(), c.weightsOut(), c.trainLimit());
                case "--batch" -> c = new Config(c.dataDir(), c.epochs(), Integer.parseInt(args[i + 1]), c.lr(), c.seed(), c.weightsOut(), c.trainLimit());
                case "--lr" -> c = new Config(c.dataDir(), c.epochs(), c.batchSize(), Double.parseDouble(args[i + 1]), c.seed(), c.weightsOut(), c.trainLimit());
                case "--seed" -> c = new Config(c.dataDir(), c.epochs(), c.batchSize(), c.lr(), Long.parseLong(args[i + 1]), c.weightsOut(), c.trainLimit());
                case "--out" -> c = new Config(c.dataDir(), c.epochs(), c.batchSize(), c.lr(), c.seed(), Path.of(args[i + 1]), c.trainLimit());
                default -> throw new IllegalArgumentException("unknown option " + args[i]
                        + "; known: --data DIR --epochs N --batch N --lr X --seed N --out FILE");
            }
        }
        Result r = train(c, System.out);
        System.out.printf("final evaluation accuracy %.2f%% on 2000 images%n", 100 * r.accuracy());
    }

    /** Trains with {@code config}, reporting progress to {@code out}. */
    public static Result train(Config config, PrintStream out) throws Exception {
        Mnist mnist = Mnist.load(config.dataDir());
        Tensor images = mnist.images().to(dev.kiln.ir.DType.F32).sub(MNIST_MEAN).div(MNIST_STD);
        TensorDataset all = new TensorDataset(images, mnist.labels());
        TensorDataset train = all.subset(0, Math.min(config.trainLimit(), Mnist.TRAIN_SIZE));
        TensorDataset eval = all.subset(Mnist.TRAIN_SIZE, Mnist.SIZE);

        Generator.manualSeed(config.seed());
        LeNet model = new LeNet();
        Optimizer optimizer = new Adam(model.parameters(), config.lr());
        double lastLoss = Double.NaN, imagesPerSecond = 0;
        try (DataLoader<Tensor[], Batch> loader = DataLoader.builder(train, Collate.pairs())
                .batchSize(config.batchSize()).shuffle(config.seed()).dropLast(false).build()) {
            for (int epoch = 1; epoch <= config.epochs(); epoch++) {
                model.train();
                ProgressBar bar = new ProgressBar(out, "epoch " + epoch + "/" + config.epochs(), loader.numBatches());
                double lossSum = 0;
                long seen = 0, start = System.nanoTime();
                for (Batch b : loader) {
                    double loss = trainStep(model, optimizer, b);
                    lossSum += loss * b.size();
                    seen += b.size();
                    imagesPerSecond = seen / ((System.nanoTime() - start) / 1e9);
                    bar.update(String.format("loss %.4f  %.0f img/s", lossSum / seen, imagesPerSecond));
                }
                lastLoss = lossSum / seen;
                double accuracy = accuracy(model, eval, config.batchSize());
                bar.finish(String.format("loss %.4f  %.0f img/s  eval accuracy %.2f%%", lastLoss, imagesPerSecond, 100 * accuracy));
            }
        }
        double accuracy = accuracy(model, eval, config.batchSize());
        if (config.weightsOut() != null) {
            model.saveWeights(config.weightsOut());
            out.println("saved weights to " + config.weightsOut().toAbsolutePath());
        }
        return new Result(accuracy, lastLoss, imagesPerSecond);
    }

    /** One optimisation step; everything it allocates is freed when it returns. */
    static double trainStep(Module model, Optimizer optimizer, Batch batch) {
        try (MemoryScope _ = MemoryScope.open()) {
            Tensor loss = F.crossEntropy((Tensor) model.call(batch.inputs()), batch.targets());
            loss.backward();
            optimizer.step();
            optimizer.zeroGrad();
            return loss.item();
        }
    }

    /** Fraction of {@code data} the model classifies correctly (in eval mode, without gradients). */
    public static double accuracy(Module model, TensorDataset data, int batchSize) {
        model.eval();
        long correct = 0;
        try (var _ = Autograd.noGrad(); DataLoader<Tensor[], Batch> loader = DataLoader.builder(data, Collate.pairs())
                .batchSize(batchSize).prefetch(false).build()) {
            for (Batch b : loader) {
                try (MemoryScope _ = MemoryScope.open()) {
                    Tensor predicted = ((Tensor) model.call(b.inputs())).argmax(1, false);
                    correct += (long) predicted.eq(b.targets()).to(dev.kiln.ir.DType.I64).sum().item();
                }
            }
        }
        return (double) correct / data.size();
    }
}
