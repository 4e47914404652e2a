package io.h3relay.config;

import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

/**
 * Golden files under src/test/resources/config. Run with {@code -Dh3relay.golden.update=true} to rewrite
 * the expected files from the current output, then review the diff before committing.
 */
final class GoldenFiles {
    static final boolean UPDATE = Boolean.getBoolean("h3relay.golden.update");

    private GoldenFiles() {}

    /** The folder on the classpath (target/test-classes/config/...). */
    static Path dir(String name) {
        try {
            return Path.of(GoldenFiles.class.getResource("/config/" + name).toURI());
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    static List<Path> yamlFiles(String name) throws IOException {
        try (Stream<Path> files = Files.list(dir(name))) {
            return files.filter(p -> p.toString().endsWith(".yaml")).sorted().toList();
        }
    }

    static Path sibling(Path yaml, String extension) {
        String n = yaml.getFileName().toString();
        return yaml.resolveSibling(n.substring(0, n.length() - ".yaml".length()) + extension);
    }

    /** Returns the expected text; in update mode first writes {@code actual} to the source tree. */
    static String expected(Path golden, String actual) throws IOException {
        if (UPDATE) {
            Path source = Path.of("src/test/resources/config")
                    .resolve(golden.getParent().getFileName()).resolve(golden.getFileName());
            Files.writeString(source, actual);
            return actual;
        }
        return Files.exists(golden) ? Files.readString(golden) : "(missing golden file " + golden.getFileName() + ")";
    }
}
