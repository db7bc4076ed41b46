package dev.kiln.frontend.data;

/** What a {@link DataLoader} keeps of its running epoch: enough to stop it, without keeping the iterator alive. */
interface EpochHandle {
    /** Stops the epoch because its loader started another one (or was closed). */
    void supersede(String why);
}
