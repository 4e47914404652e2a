package io.h3relay.cli;

public final class Main {
    public static void main(String[] args) {
        System.out.println("h3relay");
    }
}
