package dev.kiln.frontend.data;

import dev.kiln.frontend.Tensor;
import dev.kiln.runtime.NDArray;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * The MNIST test split (10,000 digits, the only split this project has), with the project's fixed partition:
 * {@link #train()} is the first 8,000 images, {@link #eval()} the last 2,000. Images are f32 {@code [N, 1, 28, 28]}
 * in [0, 1]; labels are i64 in 0-9.
 */
public final class Mnist {

    /** File name of the images, inside the directory given to {@link #load}. */
    public static final String IMAGES_FILE = "t10k-images-idx3-ubyte.gz";
    /** File name of the labels, inside the directory given to {@link #load}. */
    public static final String LABELS_FILE = "t10k-labels-idx1-ubyte.gz";
    /** Number of images in the t10k set. */
    public static final int SIZE = 10_000;
    /** Size of the training part (the first images). */
    public static final int TRAIN_SIZE = 8_000;
    /** Size of the evaluation part (the last images). */
    public static final int EVAL_SIZE = SIZE - TRAIN_SIZE;

    private final Tensor images;
    private final Tensor labels;

    private Mnist(Tensor images, Tensor labels) {
        this.images = images;
        this.labels = labels;
    }

    /** Reads {@value #IMAGES_FILE} and {@value #LABELS_FILE} from {@code dir} and checks they form the t10k set. */
    public static Mnist load(Path dir) throws IOException {
        Path imagesFile = dir.resolve(IMAGES_FILE), labelsFile = dir.resolve(LABELS_FILE);
        for (Path f : new Path[] {imagesFile, labelsFile}) {
            if (!Files.isRegularFile(f)) {
                throw new NoSuchFileException(f.toString(), null, "MNIST file missing: expected " + IMAGES_FILE
                        + " and " + LABELS_FILE + " in " + dir);
            }
        }
        Tensor images = Idx.readImagesAsFloat(imagesFile);
        Tensor labels = Idx.readLabels(labelsFile);
        long[] shape = images.shape();
        if (shape[0] != SIZE || shape[2] != 28 || shape[3] != 28) {
            throw new IdxFormatException(imagesFile + ": expected the MNIST t10k set of " + SIZE + " 28x28 images, found"
                    + " images of shape " + Arrays.toString(shape));
        }
        if (labels.shape()[0] != shape[0]) {
            throw new IdxFormatException(labelsFile + ": " + labels.shape()[0] + " labels for " + shape[0] + " images");
        }
        NDArray l = labels.data();
        for (long i = 0; i < l.numel(); i++) {
            long v = l.getLong(i);
            if (v < 0 || v > 9) throw new IdxFormatException(labelsFile + ": label " + v + " at index " + i + " is not a digit 0-9");
        }
        return new Mnist(images, labels);
    }

    /** All images, f32 {@code [10000, 1, 28, 28]} in [0, 1]. */
    public Tensor images() { return images; }

    /** All labels, i64 {@code [10000]}. */
    public Tensor labels() { return labels; }

    /** (image, label) samples 0-7999, sharing memory with {@link #images()} and {@link #labels()}. */
    public TensorDataset train() { return new TensorDataset(images, labels).subset(0, TRAIN_SIZE); }

    /** (image, label) samples 8000-9999, sharing memory with {@link #images()} and {@link #labels()}. */
    public TensorDataset eval() { return new TensorDataset(images, labels).subset(TRAIN_SIZE, SIZE); }
}
