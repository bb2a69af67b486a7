from jobguard.cli import main

main()
