package org.workshopfleet.lab.browser;

import java.util.Objects;

/**
 * A user name and password typed into a page or given to an HTTP basic auth challenge. Its {@link #toString} hides
 * the password, so a login printed in an assertion message or a log shows no secret.
 *
 * @param user     the user name
 * @param password the password
 */
public record Login(String user, String password) {

    public Login {
        Objects.requireNonNull(user, "user");
        Objects.requireNonNull(password, "password");
    }

    /** The same user with another password: for the checks that a wrong password is refused. */
    public Login withWrongPassword() {
        return new Login(user, password + "-wrong");
    }

    @Override
    public String toString() {
        return "Login[user=" + user + ", password=(hidden)]";
    }
}
