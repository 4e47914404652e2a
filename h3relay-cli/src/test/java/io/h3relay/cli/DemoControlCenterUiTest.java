package io.h3relay.cli;

import io.h3relay.testing.ExternalTool;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.By;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * {@code h3relay demo}'s control center extras in headless Chromium (Selenium): the Demo panel (only in demo
 * mode: {@code GET /demo} exists there and nowhere else) sends 50 req/s of test traffic, stops a demo
 * endpoint (its row in the endpoint table turns unhealthy while the traffic keeps being answered by the
 * other), and starts it again (healthy again). A screenshot goes to {@code target/ui-screenshots}.
 */
class DemoControlCenterUiTest {
    @TempDir
    Path state;
    DemoCommand.Running demo;
    ChromeDriver browser;

    @AfterEach
    void stop() {
        if (browser != null) {
            browser.quit();
        }
        if (demo != null) {
            demo.server().stop(Duration.ofSeconds(1));
            demo.close();
        }
    }

    private String cell(String selector) {
        try {
            return browser.findElement(By.cssSelector(selector)).getText();
        } catch (org.openqa.selenium.WebDriverException e) {
            return ""; // re-rendered every second: the element may have just been replaced
        }
    }

    private void clickAndConfirm(By by) {
        await().atMost(Duration.ofSeconds(5)).ignoreExceptions().until(() -> {
            browser.findElement(by).click();
            return true;
        });
        await().atMost(Duration.ofSeconds(5)).ignoreExceptions()
                .until(() -> browser.findElement(By.id("confirm")).isDisplayed());
        browser.findElement(By.id("confirm-ok")).click();
    }

    @Test
    void stopAnEndpointWatchItFailAndStartItAgainUnderTestTraffic() throws Exception {
        DemoCommand command = new DemoCommand();
        command.httpsPort = 0;
        command.httpPort = 0;
        command.adminPort = 0;
        command.stateDir = state;
        StringWriter err = new StringWriter();
        demo = command.start(new PrintWriter(new StringWriter()), new PrintWriter(err));
        assertThat(demo).as(err.toString()).isNotNull();
        int admin = demo.server().adminAddress().getPort();
        String one = "demo/127.0.0.1:" + demo.endpoints().get(0).port();
        String health = "tr[data-endpoint='" + one + "'] td.health";
        String process = "tr[data-demo-endpoint='demo-endpoint-1'] td.process";

        Path chromium = ExternalTool.require("chromium");
        Path driver = ExternalTool.require("chromedriver");
        ChromeOptions options = new ChromeOptions();
        options.setBinary(chromium.toFile());
        options.addArguments("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--window-size=1440,1100", "--force-device-scale-factor=1");
        browser = new ChromeDriver(new ChromeDriverService.Builder().usingDriverExecutable(driver.toFile())
                .usingAnyFreePort().build(), options);
        browser.get("http://127.0.0.1:" + admin + "/ui");
        await().atMost(Duration.ofSeconds(15)).until(() -> cell(health).equals("healthy")
                && cell(process).equals("running"));

        clickAndConfirm(By.id("demo-traffic"));
        await().atMost(Duration.ofSeconds(10)).until(() -> demo.traffic().ok() >= 25);
        await().atMost(Duration.ofSeconds(5)).until(() -> cell("#demo-traffic").equals("Stop test traffic"));

        clickAndConfirm(By.cssSelector("tr[data-demo-endpoint='demo-endpoint-1'] button[data-demo-action='stop']"));
        await().atMost(Duration.ofSeconds(10)).until(() -> cell(process).equals("stopped"));
        assertThat(demo.endpoints().get(0).running()).isFalse();
        await().atMost(Duration.ofSeconds(15)).until(() -> cell(health).equals("unhealthy"));
        await().atMost(Duration.ofSeconds(5)).ignoreExceptions().until(() -> browser.findElements(
                By.cssSelector("#events li[data-event='health']")).stream()
                .anyMatch(li -> li.getText().contains("unhealthy")));
        // The other endpoint answers the traffic meanwhile.
        long okBefore = demo.traffic().ok();
        await().atMost(Duration.ofSeconds(10)).until(() -> demo.traffic().ok() >= okBefore + 25);
        Path dir = Path.of("target", "ui-screenshots");
        Files.createDirectories(dir);
        Files.write(dir.resolve("demo-endpoint-stopped.png"), browser.getScreenshotAs(OutputType.BYTES));

        clickAndConfirm(By.cssSelector("tr[data-demo-endpoint='demo-endpoint-1'] button[data-demo-action='start']"));
        await().atMost(Duration.ofSeconds(10)).until(() -> cell(process).equals("running"));
        await().atMost(Duration.ofSeconds(15)).until(() -> cell(health).equals("healthy"));
        clickAndConfirm(By.id("demo-traffic"));
        await().atMost(Duration.ofSeconds(5)).until(() -> !demo.traffic().running());
    }

    @Test
    void theDemoRoutesExistOnlyInTheDemo() throws Exception {
        DemoCommand command = new DemoCommand();
        command.httpsPort = 0;
        command.httpPort = 0;
        command.adminPort = 0;
        command.stateDir = state;
        demo = command.start(new PrintWriter(new StringWriter()), new PrintWriter(new StringWriter()));
        try (HttpClient http = HttpClient.newHttpClient()) {
            URI base = URI.create("http://127.0.0.1:" + demo.server().adminAddress().getPort());
            HttpResponse<String> res = http.send(HttpRequest.newBuilder(base.resolve("/demo")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(res.statusCode()).isEqualTo(200);
            assertThat(res.body()).contains("\"name\":\"demo-endpoint-1\"").contains("\"running\":true")
                    .contains("\"rate\":50");
            HttpResponse<String> bad = http.send(HttpRequest.newBuilder(base.resolve("/demo/endpoints/nope/stop"))
                    .POST(HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
            assertThat(bad.statusCode()).isEqualTo(404);
            assertThat(bad.body()).contains("demo-endpoint-1");
        }
        // A server that is not the demo has no /demo: the control center shows no Demo panel there
        // (ControlCenterUiTest's servers; AdminServer answers 404 for unknown resources).
    }
}
