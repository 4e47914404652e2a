package io.h3relay.it;

import io.h3relay.testing.ExternalTool;
import io.h3relay.testing.TestEndpoint;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.openqa.selenium.By;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;

import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The control center ({@code /ui} on the admin listener) in headless Chromium driven by Selenium: it shows
 * the configured endpoints; an endpoint that dies turns unhealthy in its row and adds an event, without a
 * page reload; the drain button (after its confirmation) drains the endpoint; the HTTP/3 switch turns h3 off
 * and on; without the admin token the actions are disabled and a banner says why. Screenshots go to
 * {@code target/ui-screenshots}, or to {@code docs/images} with {@code -Dh3relay.screenshots=docs}.
 */
class ControlCenterUiTest {
    private static final String CONFIG = RelayHarness.LISTENERS.replace("  address: 127.0.0.1:0\nlisteners:",
            "  address: 127.0.0.1:0\n  grafana_url: http://127.0.0.1:3000/d/h3relay\n  @TOKEN@\nlisteners:") + """
            routes:
              - { name: api, match: { path_prefix: / }, cluster: api }
            clusters:
              - name: api
                endpoints: [ { address: "@A@" }, { address: "@B@" } ]
                health_check: { path: /check, interval: 200ms, timeout: 2s, healthy_threshold: 1,
                                unhealthy_threshold: 1 }
            """;

    TestEndpoint a;
    TestEndpoint b;
    RelayHarness relay;
    ChromeDriver browser;

    @BeforeEach
    void start() {
        a = TestEndpoint.start("a");
        b = TestEndpoint.start("b");
    }

    @AfterEach
    void stop() {
        if (browser != null) {
            browser.quit();
        }
        if (relay != null) {
            relay.close();
        }
        a.close();
        b.close();
    }

    private void open(String token) {
        relay = RelayHarness.yaml(CONFIG).with("TOKEN", token == null ? "" : "auth_token: " + token)
                .with("LIMITS", "{}").with("A", a.address()).with("B", b.address()).start();
        Path chromium = ExternalTool.require("chromium");
        Path driver = ExternalTool.require("chromedriver");
        ChromeOptions options = new ChromeOptions();
        options.setBinary(chromium.toFile());
        options.addArguments("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--window-size=1440,1000", "--force-device-scale-factor=1");
        ChromeDriverService service = new ChromeDriverService.Builder().usingDriverExecutable(driver.toFile())
                .usingAnyFreePort().build();
        browser = new ChromeDriver(service, options);
        browser.get("http://127.0.0.1:" + relay.server().adminAddress().getPort() + "/ui");
        ((JavascriptExecutor) browser).executeScript("window.__sameDocument = true;");
    }

    private WebElement row(TestEndpoint e) {
        return browser.findElement(By.cssSelector("tr[data-endpoint='api/" + e.address() + "']"));
    }

    private String text(TestEndpoint e, String cell) {
        try {
            return row(e).findElement(By.cssSelector("td." + cell)).getText();
        } catch (org.openqa.selenium.WebDriverException ex) {
            return ""; // the table is re-rendered every second: the element may have just been replaced
        }
    }

    private void click(By by) {
        await().atMost(Duration.ofSeconds(5)).ignoreExceptions().until(() -> {
            browser.findElement(by).click();
            return true;
        });
    }

    private void confirm() {
        await().atMost(Duration.ofSeconds(5)).ignoreExceptions()
                .until(() -> browser.findElement(By.id("confirm")).isDisplayed());
        assertThat(browser.findElement(By.id("confirm-text")).getText()).endsWith("?");
        browser.findElement(By.id("confirm-ok")).click();
    }

    private void screenshot(String name) throws Exception {
        String where = System.getProperty("h3relay.screenshots", "");
        Path dir = where.equals("docs") ? Path.of("..", "docs", "images") : Path.of("target", "ui-screenshots");
        Files.createDirectories(dir);
        Files.write(dir.resolve(name + ".png"), browser.getScreenshotAs(OutputType.BYTES));
    }

    private boolean sameDocument() {
        return Boolean.TRUE.equals(((JavascriptExecutor) browser).executeScript("return window.__sameDocument === true;"));
    }

    @Test
    void showsEndpointsFollowsHealthDrainsAndTogglesHttp3WithoutAPageReload() throws Exception {
        open(null);
        await().atMost(Duration.ofSeconds(15)).ignoreExceptions().until(() -> text(a, "health").equals("healthy")
                && text(b, "health").equals("healthy"));
        await().atMost(Duration.ofSeconds(5)).until(() -> text(a, "state").equals("enabled"));
        // Some traffic over h1, h2 and h3 so the listener's protocol share and the rates have something to show.
        for (Proto p : Proto.values()) {
            for (int i = 0; i < 5; i++) {
                relay.client(p).send(HttpRequest.newBuilder(relay.uri(p, "/ui-test")).build(),
                        HttpResponse.BodyHandlers.discarding());
            }
        }
        // The page re-renders every second: reads that may meet a replaced element are retried.
        await().atMost(Duration.ofSeconds(5)).ignoreExceptions().until(() -> browser.findElement(
                By.cssSelector("[data-listener='tls']")).getText().contains("HTTP/3 on"));
        assertThat(browser.findElement(By.id("grafana")).getAttribute("href")).isEqualTo("http://127.0.0.1:3000/d/h3relay");

        b.stop();
        await().atMost(Duration.ofSeconds(15)).until(() -> text(b, "health").equals("unhealthy"));
        await().atMost(Duration.ofSeconds(5)).ignoreExceptions().until(() -> browser.findElements(
                By.cssSelector("#events li[data-event='health']")).stream()
                .anyMatch(li -> li.getText().contains(b.address()) && li.getText().contains("unhealthy")));
        assertThat(sameDocument()).as("no page reload").isTrue();
        screenshot("control-center");

        click(By.cssSelector("tr[data-endpoint='api/" + a.address() + "'] button[data-action='drain']"));
        confirm();
        await().atMost(Duration.ofSeconds(10)).until(() -> text(a, "state").equals("drained"));
        assertThat(relay.server().clusters().get("api").endpoint(a.address()).health().adminState().configName())
                .isEqualTo("drained");
        await().atMost(Duration.ofSeconds(5)).ignoreExceptions().until(() -> !browser.findElements(
                By.cssSelector("#events li[data-event='drained']")).isEmpty());
        screenshot("control-center-drained");

        click(By.cssSelector("button[data-h3-toggle='tls']"));
        confirm();
        await().atMost(Duration.ofSeconds(10)).ignoreExceptions().until(() -> browser.findElement(
                By.cssSelector("[data-h3-state='tls']")).getText().equals("off"));
        assertThat(relay.server().http3Enabled("tls")).isFalse();
        await().atMost(Duration.ofSeconds(10)).until(() -> relay.server().events().since(0).stream()
                .anyMatch(e -> e.type().equals("http3_closed")));
        click(By.cssSelector("button[data-h3-toggle='tls']"));
        confirm();
        await().atMost(Duration.ofSeconds(10)).ignoreExceptions().until(() -> browser.findElement(
                By.cssSelector("[data-h3-state='tls']")).getText().equals("on"));
        assertThat(relay.server().http3Enabled("tls")).isTrue();
        assertThat(sameDocument()).as("no page reload").isTrue();
    }

    @Test
    void withoutTheTokenActionsAreDisabledAndABannerSaysWhyWithItTheyWork() throws Exception {
        open("ui-t0ken");
        await().atMost(Duration.ofSeconds(15)).ignoreExceptions().until(() -> text(a, "health").equals("healthy"));
        WebElement banner = browser.findElement(By.id("banner"));
        assertThat(banner.isDisplayed()).isTrue();
        assertThat(banner.getText()).contains("token");
        await().atMost(Duration.ofSeconds(5)).ignoreExceptions().until(() -> {
            List<WebElement> drains = browser.findElements(By.cssSelector("button[data-action='drain']"));
            return drains.size() == 2 && drains.stream().noneMatch(WebElement::isEnabled);
        });
        assertThat(browser.findElement(By.id("reload")).isEnabled()).isFalse();
        screenshot("control-center-read-only");

        browser.findElement(By.id("token")).sendKeys("ui-t0ken");
        browser.findElement(By.id("save-token")).click();
        await().atMost(Duration.ofSeconds(5)).ignoreExceptions().until(() -> row(a)
                .findElement(By.cssSelector("button[data-action='disable']")).isEnabled());
        click(By.cssSelector("tr[data-endpoint='api/" + a.address() + "'] button[data-action='disable']"));
        confirm();
        await().atMost(Duration.ofSeconds(10)).until(() -> text(a, "state").equals("disabled"));
        assertThat(browser.findElement(By.id("banner")).isDisplayed()).isFalse();
    }
}
