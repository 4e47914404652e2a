package io.h3relay.server;

import java.util.List;

/**
 * What applying a config changed. Clusters are named in config order.
 *
 * @param generation the new runtime's generation (the config the server started with is 1)
 * @param added      clusters new in this config
 * @param replaced   clusters whose config changed: built anew; the old one retires once its exchanges end
 * @param removed    clusters gone from the config: retire once their exchanges end
 * @param kept       clusters with an unchanged config: the same objects, with their pools and health state
 * @param routesChanged whether routes or a listener's route list differ
 */
public record Applied(long generation, List<String> added, List<String> replaced, List<String> removed,
                      List<String> kept, boolean routesChanged) {
    public Applied {
        added = List.copyOf(added);
        replaced = List.copyOf(replaced);
        removed = List.copyOf(removed);
        kept = List.copyOf(kept);
    }
}
