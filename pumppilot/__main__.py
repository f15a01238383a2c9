from pumppilot.cli import main

main()
