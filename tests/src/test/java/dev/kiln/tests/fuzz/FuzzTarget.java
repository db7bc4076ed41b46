package dev.kiln.tests.fuzz;

import java.nio.file.Path;
import java.util.List;
import java.util.SplittableRandom;

/** One file format to fuzz: its seed corpus, its mutations, and how a case is imported and run. */
interface FuzzTarget {

    /** The format's name in reports and regression folders: onnx, netdef, safetensors. */
    String name();

    /** The file extension of a saved case. */
    String extension();

    /** The seed corpus, built once. */
    List<byte[]> seeds();

    /** A mutated case made from {@code seed} (and {@code other}, a second seed to splice from), using only {@code r}. */
    byte[] mutate(byte[] seed, byte[] other, SplittableRandom r);

    /**
     * Imports {@code input} through Kiln's file API (written under {@code work}, a directory of its own) and runs
     * the result on generated inputs; returns normally if both succeed.
     */
    void execute(byte[] input, Path work) throws Exception;

    /** How many cases so far imported but were not run because their inputs would be too large to make up. */
    default long notRun() { return 0; }
}
