"""Human tasks as people see them: who may work one, claiming and releasing, completing, inboxes."""
