"""Common German and English given names, so the claim checker can tell that "Sarah Thompson confirmed …"
names a person even when the CRM does not know her (a name outside the sources is invented). A general list,
not the demo data's: a person whose first name is missing here is still caught when written with a title
("Frau Thompson", "Mr Thompson") or when the CRM knows the name."""

from __future__ import annotations

FIRST_NAMES = frozenset("""
Adam Adrian Alexander Alexandra Alice Amelia Andrea Andreas Andrew Angela Anja Anna Anne Annika Anton Antonia Ben
Benjamin Bernd Bettina Birgit Brian Carina Carl Carla Carmen Caroline Charles Charlotte Chloe Chris Christian
Christina Christine Christoph Christopher Claudia Clara Daniel Daniela David Dennis Dieter Dirk Dominik Edward
Elena Elias Elisabeth Elizabeth Ella Emily Emma Eric Erik Eva Fabian Felix Finn Florian Frank Franziska Gabriele
Georg George Gerhard Grace Greta Günter Hannah Hans Harald Harry Heike Heinz Helena Helmut Henry Isabel Isabella
Jack Jacob James Jan Jana Jane Jasmin Jennifer Jens Jessica Joachim Johanna Johannes John Jonas Jonathan Jörg
Joseph Julia Julian Juliane Jürgen Karin Karl Katharina Kathrin Katrin Kerstin Kevin Klaus Kristin Lara Laura
Lea Lena Leon Lina Linda Lisa Louis Louise Lucas Lucy Lukas Maja Manfred Manuel Marc Marco Maria Marie Marina
Mark Markus Martin Martina Mary Matthew Matthias Max Maximilian Melanie Mia Michael Michaela Monika Nadine Natalie
Nicole Niklas Nina Noah Oliver Olivia Oscar Patrick Paul Paula Peter Petra Philipp Rachel Ralf Rebecca Richard
Robert Sabine Sandra Sara Sarah Sebastian Simon Simone Sofia Sophia Sophie Stefan Stefanie Stephan Steven Susan
Susanne Sven Tanja Thomas Tim Tobias Tom Torsten Ulrich Ursula Uwe Vanessa Victoria Walter Werner William Wolfgang
Yvonne
""".split())
