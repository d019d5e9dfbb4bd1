package org.workshopfleet.cloud.ec2.fake;

/** A small XML writer for EC2 responses: elements, escaped text, {@code <xSet><item>} lists. */
final class Xml {
    private final StringBuilder out = new StringBuilder();

    Xml open(String name) {
        out.append('<').append(name).append('>');
        return this;
    }

    Xml close(String name) {
        out.append("</").append(name).append('>');
        return this;
    }

    /** {@code <name>text</name>}; nothing when {@code value} is null (a missing element parses as null). */
    Xml el(String name, Object value) {
        if (value != null) {
            out.append('<').append(name).append('>').append(escape(value.toString())).append("</").append(name).append('>');
        }
        return this;
    }

    Xml empty(String name) {
        out.append('<').append(name).append("/>");
        return this;
    }

    Xml raw(String xml) {
        out.append(xml);
        return this;
    }

    static String escape(String s) {
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
    }

    @Override
    public String toString() {
        return out.toString();
    }
}
